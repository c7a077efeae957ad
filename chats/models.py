import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from nora.personalities import DEFAULT_PERSONALITY, PERSONALITY_CHOICES


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    # The API distinguishes "no title yet" (null until the first message) from any title.
    title = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    personality = models.CharField(max_length=32, choices=PERSONALITY_CHOICES, default=DEFAULT_PERSONALITY)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    has_emergency = models.BooleanField(default=False, help_text="A message in it was triaged as an emergency.")

    class Meta:
        # The list's whole order, so any page is read from the index without sorting.
        indexes = [models.Index(fields=["user", "-last_activity_at", "-created_at"], name="conversation_user_activity")]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.id}"


class Message(models.Model):
    class Sender(models.TextChoices):
        USER = "user", "User"
        AI = "ai", "AI"

    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        COMPLETE = "complete", "Complete"
        INCOMPLETE = "incomplete", "Incomplete"
        STOPPED = "stopped", "Stopped"
        ERROR = "error", "Error"

    class Source(models.TextChoices):
        TEXT = "text", "Text"
        VOICE = "voice", "Voice"

    class TriageVerdict(models.TextChoices):
        """What the model-assisted triage said of a user's message the offline layers let pass."""

        EMERGENCY = "emergency", "Emergency"
        NOT_EMERGENCY = "not_emergency", "Not an emergency"
        LATE = "late", "No answer by the deadline"
        FAILED = "failed", "The model could not answer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    message = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.TEXT)
    personality = models.CharField(max_length=32, choices=PERSONALITY_CHOICES, blank=True)
    categories = models.JSONField(default=list, blank=True)
    primary_category = models.CharField(max_length=32, blank=True, db_index=True)
    disclaimer = models.JSONField(null=True, blank=True)
    model = models.CharField(max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    # A user message's second opinion from a model; blank when none was asked for. Its tokens are
    # kept apart from the reply's because they are not counted against the user's quota. The
    # text columns have database defaults too, so rows loaded outside the ORM need not name them.
    triage_verdict = models.CharField(
        max_length=16, choices=TriageVerdict.choices, blank=True, default="", db_default=""
    )
    triage_sign = models.CharField(max_length=32, blank=True, default="", db_default="")
    triage_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    triage_model = models.CharField(max_length=100, blank=True, default="", db_default="")
    triage_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    triage_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched whenever a streaming reply saves its progress: a reply whose
    # row has gone quiet has lost the process that was generating it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # A conversation's whole order, so any page is read from the index without sorting.
        indexes = [models.Index(fields=["conversation", "created_at", "id"], name="message_conversation_created")]
        constraints = [
            # At most one reply is generated per conversation at a time; the
            # database enforces it, so the guard holds across server processes.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status="streaming"),
                name="one_streaming_reply_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(sender="ai") | Q(status="complete"),
                name="user_messages_are_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sender_display()} message {self.id}"


class ConversationAccess(models.Model):
    """A staff member opened a conversation, or one of its messages, in the admin.

    The record outlives both people and conversation: the links fall back to null, and the
    staff member's email and the conversation's id stay as they were at the time.
    """

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    staff_email = models.EmailField()
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, related_name="+")
    conversation_ref = models.UUIDField(db_index=True, help_text="The conversation's id, kept after it is deleted.")
    message_ref = models.UUIDField(null=True, blank=True, help_text="Set when a single message was opened.")
    accessed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-accessed_at", "-id"]
        verbose_name = "conversation access"
        verbose_name_plural = "conversation accesses"

    def __str__(self) -> str:
        return f"{self.staff_email} opened {self.conversation_ref} at {self.accessed_at:%Y-%m-%d %H:%M:%S}"
