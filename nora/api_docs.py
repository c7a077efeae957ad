"""The API's browsable documentation at `/api/docs/`: Swagger UI, served from the project.

Swagger UI's files come from drf-spectacular-sidecar and are served with the playground's
static files, and its start-up script is a same-origin request of its own (drf-spectacular's
split view), so the page loads nothing from anywhere else and works under the same strict
Content-Security-Policy as the playground.
"""

from drf_spectacular.views import SpectacularSwaggerSplitView

from .playground import content_security_policy


class ApiDocsView(SpectacularSwaggerSplitView):
    # drf-spectacular's page, with its inline <style> moved to a stylesheet the policy allows.
    template_name = "api_docs.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = content_security_policy(request)
        response["Referrer-Policy"] = "no-referrer"
        return response
