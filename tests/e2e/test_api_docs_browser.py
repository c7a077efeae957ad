"""/api/docs/ in headless Chromium against a real daphne: Swagger UI from the project, no CDN."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DaphneProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_every_operation_from_the_project_alone(page: Page, server: DaphneProcess):
    """Every request the page makes stays on Nora's origin, nothing is refused by its
    Content-Security-Policy, and Swagger UI lists the API's operations."""
    requested: list[str] = []
    refused: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: refused.append(request.url))
    page.on("console", lambda message: message.type == "error" and refused.append(message.text))

    response = page.goto("/api/docs/")

    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock-summary-path[data-path='/auth/register/']")).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/chats/{id}/title/']")).to_be_visible()
    assert page.locator(".opblock").count() >= 15
    assert not refused, refused
    origin = urlsplit(server.url).netloc
    assert {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == {origin}
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
