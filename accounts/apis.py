from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_media_type_object
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated

from nora.api import envelope, validated
from nora.schema import enveloped, error_responses

from . import services
from .serializers import (
    AccountDeleteInput,
    LoginInput,
    RefreshInput,
    RegisterInput,
    SignedInOutput,
    TokensOutput,
    UserOutput,
    UserUpdateInput,
    WsTicketOutput,
)
from .throttles import client_address


def _signed_in(user) -> dict:
    """The user and a fresh pair of tokens: what registering and logging in answer."""
    return SignedInOutput({"user": user, **services.user_tokens_issue(user=user)}).data


class AuthViewSet(viewsets.GenericViewSet):
    """Registration, login, token refresh and logout, and the caller's own profile."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=RegisterInput,
        responses={201: enveloped("RegisterResponse", SignedInOutput()), **error_responses(400, 429)},
    )
    @action(detail=False, methods=["post"])
    def register(self, request):
        data = validated(RegisterInput, request.data)
        user = services.user_register(
            email=data["email"], password=data["password"], name=data["name"], client_address=client_address(request)
        )
        return envelope("Account created successfully", _signed_in(user), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=LoginInput,
        responses={200: enveloped("LoginResponse", SignedInOutput()), **error_responses(400, 401, 429)},
    )
    @action(detail=False, methods=["post"])
    def login(self, request):
        data = validated(LoginInput, request.data)
        user = services.user_login(
            email=data["email"], password=data["password"], client_address=client_address(request)
        )
        return envelope("Logged in successfully", _signed_in(user))

    @extend_schema(
        request=RefreshInput,
        responses={200: enveloped("RefreshResponse", TokensOutput()), **error_responses(400, 401)},
    )
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        data = validated(RefreshInput, request.data)
        return envelope("Token refreshed successfully", services.token_refresh(refresh=data["refresh"]))

    @extend_schema(
        request=RefreshInput, responses={200: enveloped("LogoutResponse", None), **error_responses(400, 401)}
    )
    @action(detail=False, methods=["post"])
    def logout(self, request):
        data = validated(RefreshInput, request.data)
        services.token_revoke(refresh=data["refresh"])
        return envelope("Logged out successfully")


class WsTicketViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={201: enveloped("WsTicketResponse", WsTicketOutput()), **error_responses(401)}
    )
    def create(self, request):
        ticket = services.ws_ticket_issue(user=request.user)
        data = WsTicketOutput({"ticket": ticket, "expires_in": settings.NORA_WS_TICKET_SECONDS}).data
        return envelope("Ticket issued", data, status=status.HTTP_201_CREATED)


class _DeleteBodySchema(AutoSchema):
    """Spectacular documents request bodies for PUT, PATCH and POST only; account deletion
    takes the password in its DELETE body, so document that one too."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        serializer = self.get_request_serializer() if self.method == "DELETE" else None
        if body is None and serializer is not None:
            schema, required = self._get_request_for_media_type(serializer, direction)
            body = {"content": {"application/json": build_media_type_object(schema)}, "required": required}
        return body


class MeViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    schema = _DeleteBodySchema()

    @extend_schema(responses={200: enveloped("ProfileResponse", UserOutput()), **error_responses(401)})
    def retrieve(self, request):
        return envelope("Profile retrieved successfully", UserOutput(request.user).data)

    @extend_schema(
        request=UserUpdateInput,
        responses={200: enveloped("ProfileUpdateResponse", UserOutput()), **error_responses(400, 401)},
    )
    def partial_update(self, request):
        data = validated(UserUpdateInput, request.data)
        user = services.user_update(user=request.user, data=data)
        return envelope("Profile updated successfully", UserOutput(user).data)

    @extend_schema(
        request=AccountDeleteInput,
        responses={200: enveloped("AccountDeleteResponse", None), **error_responses(400, 401, 429)},
        description="Delete the account and everything it owns. The password is required; "
        "a wrong one is 400 with `errors.password`. Afterwards every token of the account is rejected.",
    )
    def destroy(self, request):
        data = validated(AccountDeleteInput, request.data)
        services.user_delete(user=request.user, password=data["password"])
        return envelope("Account deleted")
