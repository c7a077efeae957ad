"""Support staff read conversations here: a read-only transcript, searchable and filterable."""

from django.contrib import admin
from django.db.models import Count

from .models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "sender", "source", "message", "status", "primary_category", "personality", "model"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "personality", "message_count", "last_activity_at", "has_emergency"]
    list_filter = ["has_emergency", "personality", "messages__status", "created_at", "last_activity_at"]
    search_fields = ["title", "user__email", "messages__message"]
    readonly_fields = ["id", "user", "personality", "created_at", "last_activity_at", "has_emergency"]
    fields = ["id", "user", "title", "personality", "created_at", "last_activity_at", "has_emergency"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages", distinct=True))

    @admin.display(ordering="message_count", description="Messages")
    def message_count(self, obj: Conversation) -> int:
        return obj.message_count


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "sender", "source", "status", "primary_category", "personality", "model", "input_tokens", "output_tokens", "created_at"]
    list_filter = ["sender", "source", "status", "primary_category", "personality", "created_at"]
    search_fields = ["message", "conversation__title", "conversation__user__email"]
    list_select_related = ["conversation"]
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
