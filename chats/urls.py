from nora.routers import OptionalSlashRouter

from .apis import ConversationViewSet, PersonalityViewSet

router = OptionalSlashRouter()
router.register("chats", ConversationViewSet, basename="chat")
router.register("personalities", PersonalityViewSet, basename="personality")

urlpatterns = router.urls
