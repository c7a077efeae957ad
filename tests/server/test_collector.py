"""The garbage collector frozen at start-up, with full passes rarer (nora/server/collector.py)."""

import gc

import pytest

from nora.server.collector import FULL_COLLECTION_THRESHOLD, collector_tune


@pytest.fixture
def collector_restored():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_what_is_loaded_is_left_out_of_collections_and_full_passes_are_rarer(collector_restored):
    import nora.asgi  # noqa: F401  (what a server has loaded when it tunes the collector)

    young, middle, _ = gc.get_threshold()
    collector_tune()
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == (young, middle, FULL_COLLECTION_THRESHOLD)


def test_the_interpreter_still_has_the_generations_the_threshold_sets():
    """The third threshold counts second-generation passes only while there are three generations."""
    assert len(gc.get_threshold()) == 3
    assert len(gc.get_count()) == 3
    assert hasattr(gc, "freeze") and hasattr(gc, "get_freeze_count")
