from django.urls import re_path

from nora.routers import UUID_PATTERN, OptionalSlashRouter

from .apis import AccountExportViewSet, ConversationViewSet, PersonalityViewSet
from .streams import message_stream

router = OptionalSlashRouter()
router.register("chats", ConversationViewSet, basename="chat")
router.register("personalities", PersonalityViewSet, basename="personality")

urlpatterns = [
    re_path(r"^auth/me/export/?$", AccountExportViewSet.as_view({"get": "export"}), name="auth-me-export"),
    re_path(rf"^chats/(?P<session_id>{UUID_PATTERN})/message/?$", message_stream, name="chat-message"),
    *router.urls,
]
