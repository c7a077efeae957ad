"""The baseline: a minimal FastAPI + uvicorn relay doing the SSE endpoint's essential work.

Check a JWT, save the user message, stream from the provider through the same `anthropic`
SDK as Nora, save the reply. Same database, same tables, same fake, same SSE events; no
framework beyond FastAPI. Whatever Nora spends beyond this is Nora's own overhead.

    BENCH_DATABASE_URL=... BENCH_SECRET_KEY=... ANTHROPIC_BASE_URL=... ANTHROPIC_API_KEY=... \\
        taskset -c 0 python -m uvicorn bench.baseline:app --port 8001
"""

import contextlib
import json
import os
import uuid

import anthropic
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "")
# The SDK's default HTTP client (httpx), as the baseline has it; "aiohttp" gives the
# baseline the SDK's aiohttp transport, which Nora uses, to see how much of a gap that closes.
HTTP_CLIENT = os.environ.get("BENCH_BASELINE_HTTP", "httpx")
MODEL = "claude-sonnet-4-6"
MAX_TOKENS = 1024
INSERT = """
    INSERT INTO chats_message (id, conversation_id, sender, message, status, source, personality, categories,
                               primary_category, disclaimer, model, input_tokens, output_tokens, created_at, updated_at)
    VALUES (%s, %s, %s, %s, %s, 'text', 'mother_figure', %s, '', NULL, %s, %s, %s, now(), now())
"""


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = AsyncConnectionPool(os.environ["BENCH_DATABASE_URL"], min_size=4, max_size=10, open=False)
    await app.state.pool.open()
    app.state.client = anthropic.AsyncAnthropic(
        api_key=os.environ["ANTHROPIC_API_KEY"], base_url=os.environ["ANTHROPIC_BASE_URL"], max_retries=0, timeout=60,
        http_client=anthropic.DefaultAioHttpClient(timeout=60) if HTTP_CLIENT == "aiohttp" else None,
    )
    yield
    await app.state.client.close()
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def sse(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/chats/{conversation_id}/message")
async def message(conversation_id: uuid.UUID, request: Request):
    header = request.headers.get("authorization", "")
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), SECRET_KEY, algorithms=["HS256"])
        if claims.get("token_type") != "access":
            raise jwt.InvalidTokenError
    except jwt.PyJWTError:
        return JSONResponse({"message": "Authentication failed.", "data": None}, status_code=401)
    text = (await request.json()).get("message", "")
    pool: AsyncConnectionPool = request.app.state.pool
    client: anthropic.AsyncAnthropic = request.app.state.client
    reply_id = uuid.uuid4()
    async with pool.connection() as conn:
        await conn.execute(INSERT, (uuid.uuid4(), conversation_id, "user", text, "complete", Jsonb([]), "", None, None))

    async def events():
        yield sse({"type": "start", "message_id": str(reply_id)})
        parts: list[str] = []
        async with client.messages.stream(
            model=MODEL, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": text}]
        ) as stream:
            async for chunk in stream.text_stream:
                parts.append(chunk)
                yield sse({"type": "chunk", "content": chunk})
            final = await stream.get_final_message()
        async with pool.connection() as conn:
            await conn.execute(
                INSERT,
                (reply_id, conversation_id, "ai", "".join(parts), "complete", Jsonb([]), final.model,
                 final.usage.input_tokens, final.usage.output_tokens),
            )
        yield sse({"type": "done", "message_id": str(reply_id), "status": "complete"})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
