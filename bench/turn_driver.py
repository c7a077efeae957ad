"""Turns through Nora's ASGI application in this process, for bench/turn_instructions.py.

Run by that benchmark, not by hand: as a script, with the Nora tree on PYTHONPATH, so an older
tree can be counted with this driver. It imports nothing from bench/. It sends the warm-up
turns, then, under callgrind, zeroes the counters, sends the counted turns, and dumps them.

    python bench/turn_driver.py PLAN.json
"""

import asyncio
import json
import os
import subprocess
import sys
import time


async def turn_send(application, *, conversation: str, token: str) -> None:
    """One message and its whole streamed reply, as daphne would hand them to Django."""
    body = json.dumps({"message": "I have been feeling tired and a bit queasy this week, is that normal?"}).encode()
    sent: list[dict] = []
    finished = asyncio.Event()
    body_delivered = False

    async def receive() -> dict:
        nonlocal body_delivered
        if not body_delivered:
            body_delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    path = f"/chats/{conversation}/message"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"host", b"127.0.0.1"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await asyncio.wait_for(application(scope, receive, send), 30)
    stream = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    if sent[0].get("status") != 200 or b'"type": "done"' not in stream:
        raise RuntimeError(f"the turn did not complete: status {sent[0].get('status')}, {stream[-300:]!r}")


def callgrind_control(flag: str, *, plan: dict) -> None:
    if plan["callgrind"]:
        subprocess.run(["callgrind_control", flag, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


async def turns_run(plan: dict) -> float:
    from nora.asgi import application

    warm, counted = plan["conversations"][: plan["warm"]], plan["conversations"][plan["warm"] :]
    for conversation in warm:
        await turn_send(application, conversation=conversation, token=plan["token"])
    # Let the last reply's saving and the counters settle outside the count.
    await asyncio.sleep(0.5)
    callgrind_control("--zero", plan=plan)
    started = time.perf_counter()
    for conversation in counted:
        await turn_send(application, conversation=conversation, token=plan["token"])
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.5)
    callgrind_control("--dump", plan=plan)
    return elapsed


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nora.settings")
    with open(sys.argv[1]) as handle:
        plan = json.load(handle)
    elapsed = asyncio.run(turns_run(plan))
    print(json.dumps({"turns": len(plan["conversations"]) - plan["warm"], "seconds": elapsed}), flush=True)
    # The process's stop listener and pools would hold the exit up; everything is counted.
    os._exit(0)


if __name__ == "__main__":
    main()
