"""How the server process is tuned, apart from what Nora does.

Each piece changes how a library behaves, so each lives here and nowhere else, is on unless
the environment turns its setting off, and has a decision record in docs/decisions/ (what it
changes, which private internals it touches, what it gains and the command that measures it):

- NORA_SERVER_INLINE_MIDDLEWARE: Django's middlewares with their hooks on the event loop
  (middleware.py, checks.py; chosen in settings.MIDDLEWARE).
- NORA_SERVER_FRAMES_WITHOUT_CLEANUP: voice frames handed to the consumer without Channels'
  per-message database clean-up (consumers.py).
- NORA_SERVER_EAGER_WRITES: daphne's writes sent when they are made (eager_writes.py).
- NORA_SERVER_COLLECTOR_TUNING: the garbage collector frozen at start-up and its full passes
  rarer (collector.py).
- NORA_SERVER_REASON_PHRASES: a reason phrase on daphne's status line for every status
  (reason_phrases.py).

The last three patch the process: the ASGI application calls `server_tuning_install` once
it is loaded. The test settings turn every piece off; each piece's tests turn on the one
they test, and the end-to-end tests' daphne processes run with the production defaults.
"""

from django.conf import settings

from nora.server.collector import collector_tune
from nora.server.eager_writes import eager_writes_install
from nora.server.reason_phrases import reason_phrases_install


def server_tuning_install() -> None:
    if settings.NORA_SERVER_REASON_PHRASES:
        reason_phrases_install()
    if settings.NORA_SERVER_EAGER_WRITES:
        eager_writes_install()
    # Last: it freezes everything loaded so far, the pieces above included.
    if settings.NORA_SERVER_COLLECTOR_TUNING:
        collector_tune()
