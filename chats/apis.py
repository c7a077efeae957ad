from asgiref.sync import async_to_sync
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from nora.api import PageInput, envelope, page_slice, validated
from nora.personalities import PERSONALITIES
from nora.routers import UUID_PATTERN
from nora.schema import enveloped, error_responses

from . import selectors, services
from .engine.stop_requests import reply_stop
from .serializers import (
    ConversationCreateInput,
    ConversationDetailOutput,
    ConversationOutput,
    ConversationPageOutput,
    PersonalityOutput,
    ReplyStopOutput,
    TitleInput,
    UserExportOutput,
)

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number (default 1, min 1)."),
    OpenApiParameter("per_page", int, description="Items per page (default 20, min 1, max 100)."),
]


class ConversationViewSet(viewsets.GenericViewSet):
    """The caller's chat sessions. Every query is scoped to the caller."""

    lookup_value_regex = UUID_PATTERN

    def get_object(self):
        return selectors.conversation_get(user=self.request.user, conversation_id=self.kwargs["pk"])

    # many=False: the envelope is one object, not the list drf-spectacular assumes for a `list` action.
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={
            200: extend_schema_serializer(many=False)(enveloped("ConversationListResponse", ConversationPageOutput())),
            **error_responses(400, 401),
        },
    )
    def list(self, request):
        params = validated(PageInput, request.query_params)
        page = page_slice(queryset=selectors.conversation_list(user=request.user), **params)
        data = {"conversations": ConversationOutput(page.items, many=True).data, "pagination": page.pagination()}
        return envelope("User conversation tiles retrieved successfully", data)

    @extend_schema(
        request=ConversationCreateInput,
        responses={201: enveloped("ConversationCreateResponse", ConversationOutput()), **error_responses(400, 401)},
    )
    def create(self, request):
        data = validated(ConversationCreateInput, request.data or {})
        conversation = services.conversation_create(user=request.user, personality=data.get("personality"))
        return envelope(
            "Chat session created successfully", ConversationOutput(conversation).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={
            200: enveloped("ConversationDetailResponse", ConversationDetailOutput()),
            **error_responses(400, 401, 404),
        },
    )
    def retrieve(self, request, pk=None):
        params = validated(PageInput, request.query_params)
        conversation = self.get_object()
        page = page_slice(queryset=selectors.message_list(conversation=conversation), **params)
        services.replies_shown_recover_stale(messages=page.items)
        data = ConversationDetailOutput(
            {"conversation": conversation, "messages": page.items, "pagination": page.pagination()}
        ).data
        return envelope("Conversation retrieved successfully", data)

    @extend_schema(
        responses={
            200: inline_serializer(
                "ConversationDeleteResponse",
                {"message": serializers.CharField(), "success": serializers.BooleanField()},
            ),
            **error_responses(401, 404),
        }
    )
    def destroy(self, request, pk=None):
        services.conversation_delete(conversation=self.get_object())
        return Response({"message": "Conversation deleted", "success": True})

    @extend_schema(
        request=TitleInput,
        responses={
            200: enveloped("ConversationTitleResponse", ConversationOutput()),
            **error_responses(400, 401, 404),
        },
    )
    @action(detail=True, methods=["patch"], url_path="title")
    def title(self, request, pk=None):
        data = validated(TitleInput, request.data)
        conversation = services.conversation_rename(conversation=self.get_object(), title=data["title"])
        return envelope("Chat session title updated successfully.", ConversationOutput(conversation).data)

    @extend_schema(
        request=None,
        responses={200: enveloped("ReplyStopResponse", ReplyStopOutput()), **error_responses(401, 404)},
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        stopping = async_to_sync(reply_stop)(conversation=self.get_object())
        return envelope("Stopping the reply" if stopping else "Nothing to stop", {"stopping": stopping})


class PersonalityViewSet(viewsets.GenericViewSet):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={
            200: extend_schema_serializer(many=False)(
                enveloped("PersonalityListResponse", PersonalityOutput(many=True))
            )
        }
    )
    def list(self, request):
        return envelope(
            "Personalities retrieved successfully", PersonalityOutput(PERSONALITIES.values(), many=True).data
        )


class AccountExportViewSet(viewsets.GenericViewSet):
    """The caller's data export, under their account's path: it holds their conversations too."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: enveloped("AccountExportResponse", UserExportOutput()), **error_responses(401)},
        description="Everything Nora stores about the caller, as JSON; sent as an attachment for saving.",
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        export = selectors.user_export_get(user=request.user)
        response = envelope("Your data export is ready", UserExportOutput(export).data)
        response["Content-Disposition"] = f'attachment; filename="nora-export-{export.exported_at:%Y-%m-%d}.json"'
        return response
