"""Liveness and readiness for load balancers and orchestrators."""

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpResponse

from .api import json_response


async def healthz(request) -> HttpResponse:
    return json_response({"status": "ok"})


def _database_ping() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def readyz(request) -> HttpResponse:
    checks = {}
    try:
        await sync_to_async(_database_ping)()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "readiness.ping"})
        await layer.receive(channel)
        checks["channel_layer"] = "ok"
    except Exception:
        checks["channel_layer"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
