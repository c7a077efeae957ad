"""The garbage collector tuned for a process that holds many long-lived streams.

Everything loaded at start-up (modules, models, SDK types) lives as long as the process.
Frozen, it is left out of the collector's full passes, which would otherwise walk all of it
and pause the event loop, and every open stream with it, for as long. And every full pass
walks every open stream: a tenth as many full passes, at the price that what only they free
(a few objects in reference cycles per request) is freed later.
"""

import gc

# How many second-generation collections make a full one: ten times the interpreter's 10.
FULL_COLLECTION_THRESHOLD = 100


def collector_tune() -> None:
    """Freeze what is loaded so far and make full collections rarer; call once the app is loaded."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)
