from django.urls import re_path

from nora.routers import OptionalSlashRouter

from .apis import AuthViewSet, MeViewSet, WsTicketViewSet

router = OptionalSlashRouter()
router.register("auth", AuthViewSet, basename="auth")

me = MeViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    *router.urls,
    re_path(r"^auth/me/?$", me, name="auth-me"),
    re_path(r"^auth/ws-ticket/?$", WsTicketViewSet.as_view({"post": "create"}), name="auth-ws-ticket"),
]
