from rest_framework import serializers

from nora.api import UTCDateTimeField
from nora.personalities import PERSONALITY_CHOICES

from .models import COUNTRY_CHOICES, LANGUAGE_CHOICES


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    name = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    default_personality = serializers.CharField()
    country = serializers.CharField(allow_null=True, help_text="ISO 3166-1 alpha-2, or null.")
    language = serializers.CharField(allow_null=True, help_text="ISO 639-1, or null.")
    created_at = UTCDateTimeField()


class UserUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    default_personality = serializers.ChoiceField(choices=PERSONALITY_CHOICES, required=False)
    country = serializers.ChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2 (`GB`, `MX`): the emergency notice names this country's emergency number "
        "and crisis line. Null: the deployment's own.",
    )
    language = serializers.ChoiceField(
        choices=LANGUAGE_CHOICES,
        required=False,
        allow_null=True,
        help_text="ISO 639-1: the language of the emergency notice and the disclaimers. Null: the language each "
        "message is written in.",
    )


class TokensOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class SignedInOutput(TokensOutput):
    """The user, with the access and refresh tokens just issued to them."""

    user = UserOutput()


class WsTicketOutput(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid; it works once.")


class AccountDeleteInput(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class ExportProfileOutput(UserOutput):
    last_login = UTCDateTimeField(allow_null=True)
