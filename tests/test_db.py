"""ORM calls from async code (nora/db.py)."""

import asyncio
import threading
from unittest import mock

import pytest
from django.db import connections

from accounts.models import User
from nora.db import database_call


async def test_database_calls_run_side_by_side():
    # On one shared thread the first call would hold it until the barrier broke.
    barrier = threading.Barrier(2, timeout=5)
    await asyncio.gather(database_call(barrier.wait)(), database_call(barrier.wait)())


@pytest.mark.django_db(transaction=True)
async def test_a_database_call_hands_its_connection_back():
    def user_exists_on_this_threads_connection():
        User.objects.exists()
        return connections["default"]

    # Channels' test communicator turns its own cleanup off like this; ours must still run.
    with mock.patch("channels.db.close_old_connections", lambda: None):
        used = await database_call(user_exists_on_this_threads_connection)()

    assert used.connection is None
