"""Request ids, structured logs and Prometheus metrics.

Log lines carry ids and timings, never a token, a password, a message or a transcript: paths
are logged without their query string, and nothing here reads a body.
"""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
conversation_id_var: ContextVar[str | None] = ContextVar("conversation_id", default=None)

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

logger = logging.getLogger("nora.requests")

HTTP_REQUESTS = Counter("nora_http_requests_total", "HTTP requests answered.", ["method", "status"])
HTTP_LATENCY = Histogram("nora_http_request_seconds", "Time until the response (or the stream) starts.")
OPEN_STREAMS = Gauge("nora_open_streams", "SSE reply streams open in this process.")
OPEN_SOCKETS = Gauge("nora_open_voice_sockets", "Voice sockets open in this process.")
FIRST_CHUNK = Histogram(
    "nora_time_to_first_chunk_seconds",
    "From the user's message to the reply's first text.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
PROVIDER_ERRORS = Counter("nora_provider_errors_total", "Model and speech provider failures.", ["provider", "code"])
TOKENS = Counter("nora_tokens_total", "Model tokens used.", ["kind"])
TRIAGE_VERDICTS = Counter(
    "nora_triage_verdicts_total", "Model-assisted triage outcomes, as the turn used them.", ["verdict"]
)
TRIAGE_LATENCY = Histogram(
    "nora_triage_seconds",
    "From the start of a turn to the model-assisted triage's answer.",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8),
)


class ContextFilter(logging.Filter):
    """Stamps every record with the ids of the request or socket it belongs to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        record.user_id = getattr(record, "user_id", None) or user_id_var.get()
        record.conversation_id = getattr(record, "conversation_id", None) or conversation_id_var.get()
        return True


LOG_FIELDS = ("request_id", "user_id", "conversation_id", "reply_id", "method", "path", "status", "latency_ms", "event")


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in LOG_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestObservabilityMiddleware:
    """Gives each request an id (the caller's X-Request-ID when well formed), logs it, counts it."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if REQUEST_ID_PATTERN.match(supplied) else uuid.uuid4().hex
        request_id_var.set(request_id)
        user_id_var.set(None)
        conversation_id_var.set(None)
        started = time.perf_counter()
        response = await self.get_response(request)
        latency = time.perf_counter() - started
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            user_id_var.set(str(user.pk))
        HTTP_REQUESTS.labels(request.method, str(response.status_code)).inc()
        HTTP_LATENCY.observe(latency)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round(latency * 1000, 2),
                "event": "request",
            },
        )
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.NORA_METRICS_TOKEN
    if token and request.headers.get("Authorization") != f"Bearer {token}":
        return HttpResponse(status=401)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
