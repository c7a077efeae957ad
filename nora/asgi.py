import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nora.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.middleware import JWTQueryAuthMiddleware  # noqa: E402
from nora.server import server_tuning_install  # noqa: E402
from nora.websocket import AllowedHostsBrowserOriginValidator  # noqa: E402
from voice.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsBrowserOriginValidator(JWTQueryAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

server_tuning_install()
