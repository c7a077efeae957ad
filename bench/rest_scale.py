"""Measurement 5: REST at scale: conversation list and conversation pages on a large database.

One user with 10,000 conversations of 100 messages each (1,000,000 messages), plus one
conversation of 10,000 messages. `GET /chats` page 1 and page 400, `GET /chats/{id}` first
and last page of the big conversation (20 per page); latency at 1 and 20 concurrent
clients; queries per request counted inside Django. The data set is loaded once with
server-side INSERT ... SELECT and reused while it is complete.

    python -m bench.rest_scale
    python -m bench.rest_scale --smoke          # 50 conversations, a few requests
"""

import argparse
import asyncio
import json
import subprocess
import time
from pathlib import Path

from bench import harness
from bench.fakes import now_us
from bench.sse import Connection, Stream

PER_PAGE = 20


def data_load(*, owner_email: str, conversations: int, per_conversation: int, big: int) -> tuple[str, str]:
    """The owner's id and the big conversation's id; loaded unless already complete, then vacuumed.

    A live database is vacuumed by autovacuum, which keeps the visibility map that lets
    PostgreSQL count a conversation's messages from the index alone. Freshly loaded rows
    have none (and autovacuum may be off, as on the machine these figures come from), so
    without this the big conversation's count read 10,000 heap rows: 6.6 ms, not 1.3.
    """
    owner, big_id = _data_ensure(
        owner_email=owner_email, conversations=conversations, per_conversation=per_conversation, big=big
    )
    with harness.db() as conn:
        conn.execute("VACUUM (ANALYZE) chats_conversation")
        conn.execute("VACUUM (ANALYZE) chats_message")
    return owner, big_id


def _data_ensure(*, owner_email: str, conversations: int, per_conversation: int, big: int) -> tuple[str, str]:
    (owner,) = harness.users_make(prefix=owner_email, count=1)
    with harness.db() as conn:
        have = conn.execute("SELECT count(*) FROM chats_conversation WHERE user_id = %s", (owner,)).fetchone()[0]
        big_row = conn.execute(
            "SELECT id FROM chats_conversation WHERE user_id = %s AND title = 'Big conversation'", (owner,)
        ).fetchone()
        expected = conversations + 1
        if have == expected and big_row is not None:
            count = conn.execute(
                "SELECT count(*) FROM chats_message WHERE conversation_id = %s", (big_row[0],)
            ).fetchone()[0]
            if count == big:
                return owner, str(big_row[0])
        started = time.monotonic()
        print(f"  loading {conversations} conversations x {per_conversation} messages + {big} ...", flush=True)
        conn.execute(
            "DELETE FROM chats_message WHERE conversation_id IN (SELECT id FROM chats_conversation WHERE user_id = %s)",
            (owner,),
        )
        conn.execute("DELETE FROM chats_conversation WHERE user_id = %s", (owner,))
        conn.execute(
            """
            INSERT INTO chats_conversation (id, title, personality, created_at, last_activity_at, has_emergency, user_id)
            SELECT gen_random_uuid(), 'Conversation ' || n, 'mother_figure',
                   now() - interval '400 days' + n * interval '50 minutes',
                   now() - interval '400 days' + n * interval '50 minutes' + interval '30 minutes', false, %s
            FROM generate_series(1, %s) AS n
            """,
            (owner, conversations),
        )
        big_id = conn.execute(
            """
            INSERT INTO chats_conversation (id, title, personality, created_at, last_activity_at, has_emergency, user_id)
            VALUES (gen_random_uuid(), 'Big conversation', 'mother_figure', now() - interval '500 days',
                    now() - interval '500 days', false, %s)
            RETURNING id
            """,
            (owner,),
        ).fetchone()[0]
        message_sql = """
            INSERT INTO chats_message (id, conversation_id, sender, message, status, source, personality, categories,
                                       primary_category, disclaimer, model, input_tokens, output_tokens,
                                       created_at, updated_at)
            SELECT gen_random_uuid(), c.id, CASE WHEN n %% 2 = 0 THEN 'user' ELSE 'ai' END,
                   repeat('Many people feel tired in the first weeks, and that is very common. ', 3),
                   'complete', 'text', CASE WHEN n %% 2 = 0 THEN '' ELSE 'mother_figure' END, '[]'::jsonb, '',
                   NULL, '', NULL, NULL, c.created_at + n * interval '10 seconds', c.created_at + n * interval '10 seconds'
            FROM chats_conversation c, generate_series(0, %s - 1) AS n
            WHERE c.user_id = %s AND c.id {} %s
        """
        conn.execute(message_sql.format("<>"), (per_conversation, owner, big_id))
        conn.execute(message_sql.format("="), (big, owner, big_id))
        print(f"  loaded in {time.monotonic() - started:.0f} s", flush=True)
        return owner, str(big_id)


async def requests_run(port: int, token: str, path: str, *, clients: int, count: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    per_client = max(1, count // clients)

    async def client() -> None:
        nonlocal failures
        connection = Connection(port)
        try:
            for _ in range(per_client):
                record = Stream()
                started = now_us()
                await connection.request(method="GET", path=path, token=token, record=record)
                if record.status == 200 and not record.error:
                    latencies.append((now_us() - started) / 1000)
                else:
                    failures += 1
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, failures


def queries_count(args, token: str, pages: dict[str, str]) -> dict[str, int]:
    env = harness.nora_env(tree=args.tree, extra={**harness.extra_env(args.env), "ALLOWED_HOSTS": "testserver"})
    output = subprocess.run(
        [harness.PYTHON, str(Path(__file__).with_name("rest_queries.py")), token,
         *(f"{label}={path}" for label, path in pages.items())],
        cwd=args.tree, env=env, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--requests", type=int, default=400, help="per page, load level and run")
    args = parser.parse_args(argv)
    sizes = {"owner_email": "rest-owner", "conversations": 10_000, "per_conversation": 100, "big": 10_000}
    if args.smoke:
        sizes = {"owner_email": "rest-smoke", "conversations": 50, "per_conversation": 4, "big": 60}
        args.clients, args.requests, args.runs = [1, 2], 4, 1
    harness.setup(args)
    owner, big = data_load(**sizes)
    token = harness.access_token(owner)
    list_pages = sizes["conversations"] // PER_PAGE
    last_page = -(-sizes["big"] // PER_PAGE)
    pages = {
        "GET /chats page 1": "/chats",
        f"GET /chats page {min(400, list_pages)}": f"/chats?page={min(400, list_pages)}",
        "GET /chats/{big} page 1": f"/chats/{big}",
        f"GET /chats/{{big}} page {last_page} (last)": f"/chats/{big}?page={last_page}",
    }
    queries = queries_count(args, token, pages)
    latencies: dict[tuple[str, int], list[float]] = {}
    failures: dict[tuple[str, int], int] = {}
    for run in range(args.runs):
        env = harness.nora_env(tree=args.tree, extra=harness.extra_env(args.env))
        with harness.running(harness.nora_start(tree=args.tree, env=env)) as process, \
                harness.maybe_profiled(args, process, first=run == 0):
            port = int(process.url.rsplit(":", 1)[1])
            for label, path in pages.items():
                asyncio.run(requests_run(port, token, path, clients=2, count=10))  # warm
                for clients in args.clients:
                    values, failed = asyncio.run(
                        requests_run(port, token, path, clients=clients, count=args.requests)
                    )
                    latencies.setdefault((label, clients), []).extend(values)
                    failures[(label, clients)] = failures.get((label, clients), 0) + failed
    table = harness.Table(
        "REST at scale (ms per request)",
        ["page", "clients", "requests", "failed", "p50", "p99", "queries", "target"],
    )
    for label in pages:
        for clients in args.clients:
            values = latencies.get((label, clients), [])
            table.add(
                label, clients, len(values), failures.get((label, clients), 0), harness.percentile(values, 50),
                harness.percentile(values, 99), queries.get(label, "?"),
                "p50 <= 15 ms; queries constant" if clients == 1 else "",
            )
    harness.report([table], json_path=args.json, meta=harness.meta(args, data=sizes))


if __name__ == "__main__":
    main()
