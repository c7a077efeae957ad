"""Each piece of process tuning is installed by its own setting, and only by it (nora/server/)."""

import gc

import pytest
from twisted.internet import tcp
from twisted.web import http

from nora.server import server_tuning_install
from nora.server.eager_writes import EagerWriteServer

PIECES = ("NORA_SERVER_EAGER_WRITES", "NORA_SERVER_COLLECTOR_TUNING", "NORA_SERVER_REASON_PHRASES")


@pytest.fixture
def process_restored(monkeypatch):
    """Twisted's transport class and phrase table, and the collector, as they were."""
    monkeypatch.setattr(tcp.Port, "transport", tcp.Port.transport)
    monkeypatch.setattr(http, "RESPONSES", dict(http.RESPONSES))
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def installed() -> set[str]:
    pieces = set()
    if tcp.Port.transport is EagerWriteServer:
        pieces.add("NORA_SERVER_EAGER_WRITES")
    if gc.get_freeze_count():
        pieces.add("NORA_SERVER_COLLECTOR_TUNING")
    if http.RESPONSES.get(429) == b"Too Many Requests":
        pieces.add("NORA_SERVER_REASON_PHRASES")
    return pieces


def test_the_test_process_runs_untuned():
    assert installed() == set()


@pytest.mark.parametrize("piece", PIECES)
def test_a_setting_installs_its_piece_alone(piece, settings, process_restored):
    for name in PIECES:
        setattr(settings, name, name == piece)
    server_tuning_install()
    assert installed() == {piece}


def test_production_settings_install_every_piece(settings, process_restored):
    for name in PIECES:
        setattr(settings, name, True)
    server_tuning_install()
    assert installed() == set(PIECES)
