"""How every endpoint documents Nora's response envelopes in the OpenAPI schema."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR_ENVELOPE = {
    "type": "object",
    "required": ["message", "errors"],
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}

# The same envelope for the DRF endpoints, as one component.
ERROR_RESPONSE = inline_serializer(
    name="ErrorResponse",
    fields={
        "message": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)

ERROR_DESCRIPTIONS = {
    400: "Invalid input; `errors` names the fields at fault.",
    401: "No token, an invalid one, or wrong credentials.",
    404: "No such conversation for this user.",
    429: "Too many attempts; see Retry-After.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The error envelope under each status an endpoint answers with, for `@extend_schema(responses=...)`."""
    return {code: OpenApiResponse(ERROR_RESPONSE, description=ERROR_DESCRIPTIONS[code]) for code in codes}


def enveloped(name: str, data: serializers.Serializer | None):
    """A success response as documented: `message`, and `data` (null where there is none)."""
    fields = {"message": serializers.CharField()}
    fields["data"] = data if data is not None else serializers.JSONField(allow_null=True)
    return inline_serializer(name=name, fields=fields)
