"""A reason phrase on daphne's status line for every status (nora/server/reason_phrases.py)."""

from http import HTTPStatus

from twisted.web import http
from twisted.web.test.requesthelper import DummyChannel

from nora.server.reason_phrases import reason_phrases_install


def test_every_status_gets_its_phrase(monkeypatch):
    monkeypatch.setattr(http, "RESPONSES", dict(http.RESPONSES))
    reason_phrases_install()
    assert http.RESPONSES[429] == b"Too Many Requests"
    assert all(status.value in http.RESPONSES for status in HTTPStatus)


def test_twisted_takes_a_status_line_phrase_from_the_table_it_has(monkeypatch):
    """What the piece fills in is what Twisted's Request reads when daphne sets only a code."""
    monkeypatch.setattr(http, "RESPONSES", {**http.RESPONSES, 299: b"A Phrase Of Our Own"})
    request = http.Request(DummyChannel(), False)
    request.setResponseCode(299)
    assert request.code_message == b"A Phrase Of Our Own"
