from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated

from nora.api import envelope, validated

from . import services
from .throttles import client_address
from .serializers import (
    LoginInput,
    RefreshInput,
    RegisterInput,
    SessionOutput,
    TokensOutput,
    UserOutput,
    UserUpdateInput,
    WsTicketOutput,
)


def _enveloped(name: str, data: serializers.Serializer | None):
    fields = {"message": serializers.CharField()}
    fields["data"] = data if data is not None else serializers.JSONField(allow_null=True)
    return inline_serializer(name=name, fields=fields)


def _session(user) -> dict:
    return SessionOutput({"user": user, **services.user_tokens_issue(user=user)}).data


class AuthViewSet(viewsets.GenericViewSet):
    """Registration, login, token refresh and logout, and the caller's own profile."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=RegisterInput, responses={201: _enveloped("RegisterResponse", SessionOutput())})
    @action(detail=False, methods=["post"])
    def register(self, request):
        data = validated(RegisterInput, request.data)
        user = services.user_register(
            email=data["email"], password=data["password"], name=data["name"], client_address=client_address(request)
        )
        return envelope("Account created successfully", _session(user), status=status.HTTP_201_CREATED)

    @extend_schema(request=LoginInput, responses={200: _enveloped("LoginResponse", SessionOutput())})
    @action(detail=False, methods=["post"])
    def login(self, request):
        data = validated(LoginInput, request.data)
        user = services.user_login(
            email=data["email"], password=data["password"], client_address=client_address(request)
        )
        return envelope("Logged in successfully", _session(user))

    @extend_schema(request=RefreshInput, responses={200: _enveloped("RefreshResponse", TokensOutput())})
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        data = validated(RefreshInput, request.data)
        return envelope("Token refreshed successfully", services.token_refresh(refresh=data["refresh"]))

    @extend_schema(request=RefreshInput, responses={200: _enveloped("LogoutResponse", None)})
    @action(detail=False, methods=["post"])
    def logout(self, request):
        data = validated(RefreshInput, request.data)
        services.token_revoke(refresh=data["refresh"])
        return envelope("Logged out successfully")


class WsTicketViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: _enveloped("WsTicketResponse", WsTicketOutput())})
    def create(self, request):
        ticket = services.ws_ticket_issue(user=request.user)
        data = WsTicketOutput({"ticket": ticket, "expires_in": settings.NORA_WS_TICKET_SECONDS}).data
        return envelope("Ticket issued", data, status=status.HTTP_201_CREATED)


class MeViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: _enveloped("ProfileResponse", UserOutput())})
    def retrieve(self, request):
        return envelope("Profile retrieved successfully", UserOutput(request.user).data)

    @extend_schema(request=UserUpdateInput, responses={200: _enveloped("ProfileUpdateResponse", UserOutput())})
    def partial_update(self, request):
        data = validated(UserUpdateInput, request.data)
        user = services.user_update(user=request.user, data=data)
        return envelope("Profile updated successfully", UserOutput(user).data)
