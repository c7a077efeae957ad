"""PerEventLoop: one object per running event loop, and none kept for loops that have closed."""

import asyncio
import gc
import weakref

import pytest

from nora.event_loops import PerEventLoop


class LoopClient:
    """Like an async client: it refers to the loop it was made on."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()


def test_code_on_one_loop_shares_one_object():
    per_loop = PerEventLoop()
    made = []

    def make():
        made.append(LoopClient())
        return made[-1]

    async def ask_twice():
        return per_loop.get(make), per_loop.get(make)

    first, second = asyncio.run(ask_twice())

    assert first is second is made[0]
    assert len(made) == 1


def test_each_loop_gets_its_own_object_and_a_closed_loops_object_is_let_go():
    per_loop = PerEventLoop()

    async def ask():
        return per_loop.get(LoopClient)

    earlier = asyncio.run(ask())
    earlier_ref = weakref.ref(earlier)
    del earlier
    asyncio.run(ask())
    gc.collect()

    assert earlier_ref() is None


def test_an_object_that_could_not_be_made_is_made_again_next_time():
    per_loop = PerEventLoop()
    attempts = []

    def make():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not configured yet")
        return LoopClient()

    async def ask_after_a_failure():
        with pytest.raises(RuntimeError):
            per_loop.get(make)
        return per_loop.get(make)

    assert isinstance(asyncio.run(ask_after_a_failure()), LoopClient)
    assert len(attempts) == 2


def test_pop_hands_back_the_running_loops_object_and_forgets_it():
    per_loop = PerEventLoop()

    async def pop_then_ask():
        made = per_loop.get(LoopClient)
        return made, per_loop.pop(), per_loop.pop(), per_loop.get(LoopClient)

    made, popped, popped_again, remade = asyncio.run(pop_then_ask())

    assert popped is made
    assert popped_again is None
    assert remade is not made
