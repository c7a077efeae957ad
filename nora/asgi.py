import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nora.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.middleware import JWTQueryAuthMiddleware  # noqa: E402
from nora.eager_writes import eager_writes_install  # noqa: E402
from nora.reason_phrases import reason_phrases_install  # noqa: E402
from nora.websocket import AllowedHostsBrowserOriginValidator  # noqa: E402
from voice.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsBrowserOriginValidator(JWTQueryAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

reason_phrases_install()

# Daphne's writes go out when they are made, not a pass of the event loop later: one turn of
# the loop fewer for every chunk of every stream (nora/eager_writes.py).
eager_writes_install()

# Everything loaded so far lives as long as the process. Frozen, it is left out of the
# collector's full passes, which would otherwise walk all of it and pause the event loop, and
# every open stream with it, for as long.
gc.collect()
gc.freeze()
# Open streams are long-lived, and every full pass walks all of them: a tenth as many full
# passes. What only they free (a few objects in reference cycles per request) is freed later.
gc.set_threshold(*gc.get_threshold()[:2], 100)
