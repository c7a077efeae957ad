"""Django's deploy checks for its security middlewares, run against Nora's subclasses of them.

Django finds SecurityMiddleware, CsrfViewMiddleware and XFrameOptionsMiddleware in MIDDLEWARE by
their dotted paths. With NORA_SERVER_INLINE_MIDDLEWARE on, Nora runs subclasses that keep their
hooks on the event loop (nora/server/middleware.py), so Django would warn that they are missing
(W001 to W003, silenced in settings) and skip every check they gate: HSTS, the SSL redirect,
nosniff, the referrer and opener policies, X-Frame-Options and the CSRF cookie. They run here
instead, with each subclass standing for Django's class.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.core.checks.security import base, csrf
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.test.utils import override_settings
from django.utils.module_loading import import_string

SILENCED = frozenset(settings.INLINE_MIDDLEWARE_SILENCED_CHECKS)
GATED_CHECKS = (
    base.check_security_middleware,
    base.check_xframe_options_middleware,
    csrf.check_csrf_middleware,
    base.check_sts,
    base.check_sts_include_subdomains,
    base.check_sts_preload,
    base.check_content_type_nosniff,
    base.check_ssl_redirect,
    base.check_xframe_deny,
    base.check_referrer_policy,
    base.check_cross_origin_opener_policy,
    csrf.check_csrf_cookie_secure,
)


def _as_django_path(path: str) -> str:
    middleware = import_string(path)
    for django_class in (SecurityMiddleware, CsrfViewMiddleware, XFrameOptionsMiddleware):
        if isinstance(middleware, type) and issubclass(middleware, django_class):
            return f"{django_class.__module__}.{django_class.__name__}"
    return path


@register(Tags.security, deploy=True)
def security_middleware_check(app_configs, **kwargs) -> list:
    if not settings.NORA_SERVER_INLINE_MIDDLEWARE:
        return []  # Django's own classes, which Django's own checks find
    with override_settings(MIDDLEWARE=[_as_django_path(path) for path in settings.MIDDLEWARE]):
        messages = [message for check in GATED_CHECKS for message in check(app_configs)]
    # Django's own ids for these are silenced, so a truly missing middleware keeps its warning under Nora's.
    return [
        Warning(message.msg, hint=message.hint, id=f"nora.{message.id}") if message.id in SILENCED else message
        for message in messages
    ]
