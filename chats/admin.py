"""Support staff read conversations here: a read-only transcript, searchable and filterable.

Each time staff open a conversation, or one of its messages, a ConversationAccess record says
who, which and when; only superusers can read those records. The Support group (a data
migration) can view conversations and messages and nothing else, so Django's admin shows it
no save buttons and no delete action, and answers its changes and deletions with 403.
"""

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import Conversation, ConversationAccess, Message


def conversation_access_record(*, staff, conversation_id, message_id=None) -> ConversationAccess:
    return ConversationAccess.objects.create(
        staff=staff,
        staff_email=staff.email,
        conversation_id=conversation_id,
        conversation_ref=conversation_id,
        message_ref=message_id,
    )


def _opened(request: HttpRequest, response) -> object | None:
    """The object a change view showed, when this request displayed one."""
    if request.method != "GET" or response.status_code != 200:
        return None
    return getattr(response, "context_data", {}).get("original")


class MessageInline(admin.TabularInline):
    model = Message
    fields = [
        "created_at",
        "sender",
        "source",
        "message",
        "status",
        "primary_category",
        "triage_verdict",
        "personality",
        "model",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MessageCategoryFilter(admin.SimpleListFilter):
    """Conversations with at least one message whose primary category is the one chosen."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = (
            Message.objects.exclude(primary_category="")
            .order_by("primary_category")
            .values_list("primary_category", flat=True)
            .distinct()
        )
        return [(category, category.replace("_", " ").capitalize()) for category in categories]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        messages = Message.objects.filter(conversation=OuterRef("pk"), primary_category=self.value())
        return queryset.filter(Exists(messages))


class MessageStatusFilter(admin.SimpleListFilter):
    """Conversations with at least one message in the chosen status (a stopped or failed reply)."""

    title = "message status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Message.Status.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(Exists(Message.objects.filter(conversation=OuterRef("pk"), status=self.value())))


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    # The emergency flag comes first so a wide table never scrolls it out of sight.
    list_display = ["emergency_flag", "display_title", "user", "personality", "message_count", "last_activity"]
    list_display_links = ["display_title"]
    list_filter = [
        "has_emergency",
        MessageCategoryFilter,
        MessageStatusFilter,
        "personality",
        "created_at",
        "last_activity_at",
    ]
    search_fields = ["title", "user__email", "messages__message"]
    search_help_text = 'Title, email, or words from a message; put a phrase in "quotes" to match it exactly.'
    readonly_fields = ["id", "user", "personality", "created_at", "last_activity_at", "has_emergency"]
    fields = ["id", "user", "title", "personality", "created_at", "last_activity_at", "has_emergency"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    ordering = ["-last_activity_at"]
    inlines = [MessageInline]

    class Media:
        css = {"all": ["chats/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages", distinct=True))

    @admin.display(ordering="title", description="Title")
    def display_title(self, obj: Conversation) -> str:
        return str(obj)

    @admin.display(ordering="message_count", description="Messages")
    def message_count(self, obj: Conversation) -> int:
        return obj.message_count

    @admin.display(ordering="-has_emergency", description="Emergency", empty_value="")
    def emergency_flag(self, obj: Conversation) -> str:
        # Not Django's boolean icons: a green tick would read as "all clear".
        if not obj.has_emergency:
            return ""
        return format_html('<strong style="color: #ba2121">{}</strong>', "⚠ Emergency")

    @admin.display(ordering="last_activity_at", description="Last activity")
    def last_activity(self, obj: Conversation) -> str:
        # Short (UTC, as every time in the admin), so the column fits beside the filters.
        return f"{obj.last_activity_at:%Y-%m-%d %H:%M}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if (conversation := _opened(request, response)) is not None:
            conversation_access_record(staff=request.user, conversation_id=conversation.pk)
        return response


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "conversation",
        "sender",
        "source",
        "status",
        "primary_category",
        "personality",
        "model",
        "input_tokens",
        "output_tokens",
        "created_at",
    ]
    list_filter = ["sender", "source", "status", "primary_category", "triage_verdict", "personality", "created_at"]
    search_fields = ["message", "conversation__title", "conversation__user__email"]
    list_select_related = ["conversation"]
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if (message := _opened(request, response)) is not None:
            conversation_access_record(
                staff=request.user, conversation_id=message.conversation_id, message_id=message.pk
            )
        return response


@admin.register(ConversationAccess)
class ConversationAccessAdmin(admin.ModelAdmin):
    """Who opened which conversation when: superusers only, and nobody edits or deletes it here."""

    list_display = ["accessed_at", "staff_email", "conversation_link", "message_ref"]
    list_filter = ["accessed_at"]
    search_fields = ["staff_email", "conversation_ref"]
    search_help_text = "Staff email or conversation id."
    date_hierarchy = "accessed_at"
    fields = ["accessed_at", "staff", "staff_email", "conversation", "conversation_ref", "message_ref"]
    readonly_fields = fields
    list_select_related = ["conversation"]

    @admin.display(ordering="conversation_ref", description="Conversation")
    def conversation_link(self, obj: ConversationAccess) -> str:
        if obj.conversation_id is None:
            return f"{obj.conversation_ref} (deleted)"
        url = reverse("admin:chats_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">{}</a>', url, obj.conversation)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
