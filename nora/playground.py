"""The playground page at `/`: a small client for the API, plain HTML, CSS and JavaScript.

Its assets are served locally by WhiteNoise; the page loads nothing from anywhere else, and
its Content-Security-Policy says so, so it also works behind a strict proxy or offline.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


def content_security_policy(request: HttpRequest) -> str:
    """Nothing from anywhere else: the playground's and the API docs' pages."""
    # The voice socket is same-origin, but CSP's 'self' did not cover ws(s): in every browser
    # until recently, so the socket's origin is named.
    socket_origin = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {socket_origin}",
            "media-src 'self' blob:",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@require_safe
def playground(request: HttpRequest) -> HttpResponse:
    response = render(request, "playground.html")
    response["Content-Security-Policy"] = content_security_policy(request)
    response["Referrer-Policy"] = "no-referrer"
    return response
