"""Reason phrases for every status Nora sends, on daphne's status line.

ASGI carries a status code but no phrase, so daphne sends the one in Twisted's table, and that
table lacks newer codes: a 429 went out as `HTTP/1.1 429 Unknown Status`. The standard library
knows every registered phrase; Twisted's table is filled from it where it has none.
"""

from http import HTTPStatus


def reason_phrases_install() -> None:
    from twisted.web import http

    for status in HTTPStatus:
        http.RESPONSES.setdefault(status.value, status.phrase.encode("ascii"))
