from django.conf import settings
from rest_framework import serializers

from accounts.serializers import ExportProfileOutput
from nora.api import PaginationOutput, UTCDateTimeField
from nora.personalities import PERSONALITY_CHOICES


class ConversationCreateInput(serializers.Serializer):
    personality = serializers.ChoiceField(choices=PERSONALITY_CHOICES, required=False, allow_null=True)


class TitleInput(serializers.Serializer):
    title = serializers.CharField(max_length=255, trim_whitespace=True, allow_blank=False)


class ConversationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    title = serializers.CharField(allow_null=True)
    personality = serializers.CharField()
    created_at = UTCDateTimeField()


class DisclaimerOutput(serializers.Serializer):
    primary_category = serializers.CharField()
    detected_categories = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()


class _MessageFields(serializers.Serializer):
    """What every view of a message shows."""

    id = serializers.UUIDField()
    sender = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()


class MessageOutput(_MessageFields):
    disclaimer = DisclaimerOutput(allow_null=True)
    created_at = UTCDateTimeField()


class ConversationPageOutput(serializers.Serializer):
    conversations = ConversationOutput(many=True)
    pagination = PaginationOutput()


class ConversationDetailOutput(serializers.Serializer):
    conversation = ConversationOutput()
    messages = MessageOutput(many=True)
    pagination = PaginationOutput()


class PersonalityOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class MessageInput(serializers.Serializer):
    message = serializers.CharField(max_length=settings.NORA_MESSAGE_MAX_CHARS, allow_blank=False)
    personality = serializers.ChoiceField(choices=PERSONALITY_CHOICES, required=False, allow_null=True)


class ReplyStopOutput(serializers.Serializer):
    stopping = serializers.BooleanField()


class ExportMessageOutput(_MessageFields):
    personality = serializers.CharField(help_text="The personality that replied; empty on the user's own messages.")
    categories = serializers.ListField(child=serializers.CharField())
    primary_category = serializers.CharField()
    disclaimer = serializers.JSONField(allow_null=True)
    model = serializers.CharField(help_text="The language model that wrote a reply.")
    input_tokens = serializers.IntegerField(allow_null=True)
    output_tokens = serializers.IntegerField(allow_null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class ExportConversationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField(allow_null=True)
    personality = serializers.CharField()
    has_emergency = serializers.BooleanField()
    created_at = UTCDateTimeField()
    last_activity_at = UTCDateTimeField()
    messages = ExportMessageOutput(many=True, source="messages.all")


class UserExportOutput(serializers.Serializer):
    exported_at = UTCDateTimeField()
    profile = ExportProfileOutput(source="user")
    conversations = ExportConversationOutput(many=True)
