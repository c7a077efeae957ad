from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import errors, health, observability
from .api_docs import ApiDocsView
from .playground import playground

handler404 = "nora.errors.handler404"
handler500 = "nora.errors.handler500"

urlpatterns = [
    path("", playground, name="playground"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
    path("", include("chats.urls")),
    # Last: whatever no route above matched.
    re_path(r"^(?P<path>.*)$", errors.path_not_found),
]
