from django.urls import re_path
from nora.routers import OptionalSlashRouter

from .apis import AuthViewSet, MeViewSet

router = OptionalSlashRouter()
router.register("auth", AuthViewSet, basename="auth")

me = MeViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns = [
    *router.urls,
    re_path(r"^auth/me/?$", me, name="auth-me"),
]
