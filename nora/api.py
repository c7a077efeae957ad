"""Shapes every REST endpoint shares: the success envelope, pagination, UTC times."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


def envelope(message: str, data=None, *, status: int = 200) -> Response:
    return Response({"message": message, "data": data}, status=status)


def json_response(data, *, status: int = 200, headers=None) -> HttpResponse:
    """JSON from a plain Django view, rendered as DRF renders every REST response."""
    return HttpResponse(JSONRenderer().render(data), status=status, headers=headers, content_type="application/json")


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$",
        "example": "2025-11-18T21:30:45.123456",
        "description": "UTC, without an offset.",
    }
)
class UTCDateTimeField(serializers.DateTimeField):
    """`2025-11-18T21:30:45.123456`: always UTC, six digits of microseconds, no offset."""

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class PageInput(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)


@dataclass(frozen=True, slots=True)
class Page:
    items: list
    page: int
    per_page: int
    total_count: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.per_page)

    def pagination(self) -> dict:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total_count": self.total_count,
            "total_pages": self.total_pages,
            "next": self.page + 1 if self.page < self.total_pages else None,
            "prev": self.page - 1 if self.page > 1 else None,
        }


def page_slice(*, queryset: QuerySet, page: int, per_page: int) -> Page:
    """One page of an ordered queryset.

    The database walks past every row before an OFFSET, so a page in the back half is read
    from the other end in reverse order: the last page of a long conversation costs what
    the first does.
    """
    total_count = queryset.count()
    start = (page - 1) * per_page
    end = min(start + per_page, total_count)
    if start >= total_count:
        # A page past the end is empty; asking the database for it could overflow its OFFSET.
        items = []
    elif total_count - end < start:
        items = list(queryset.reverse()[total_count - end : total_count - start])
        items.reverse()
    else:
        items = list(queryset[start:end])
    return Page(items=items, page=page, per_page=per_page, total_count=total_count)


class PaginationOutput(serializers.Serializer):
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    total_count = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    next = serializers.IntegerField(allow_null=True)
    prev = serializers.IntegerField(allow_null=True)


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
