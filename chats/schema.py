"""The SSE endpoint in the OpenAPI schema, although it is a plain Django view.

drf-spectacular documents DRF views only; this hook adds the streaming endpoint with its
request body, its JSON errors and the shapes of its events.
"""

from nora.schema import ERROR_ENVELOPE

DISCLAIMER = {
    "type": "object",
    "required": ["primary_category", "detected_categories", "message"],
    "properties": {
        "primary_category": {"type": "string"},
        "detected_categories": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
    },
}

STREAM_EVENTS = {
    "oneOf": [
        {
            "type": "object",
            "description": "First event. `title` only on the conversation's first message.",
            "required": ["type", "message_id"],
            "properties": {
                "type": {"type": "string", "enum": ["start"]},
                "message_id": {"type": "string", "format": "uuid"},
                "title": {"type": "string"},
            },
        },
        {
            "type": "object",
            "description": "Reply text as the model produces it. On an emergency the first chunk is the safety notice.",
            "required": ["type", "content"],
            "properties": {"type": {"type": "string", "enum": ["chunk"]}, "content": {"type": "string"}},
        },
        {
            "type": "object",
            "description": "Last event of a reply. `title` when the model's title arrived after `start`.",
            "required": ["type", "message_id", "status"],
            "properties": {
                "type": {"type": "string", "enum": ["done"]},
                "message_id": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": ["complete", "stopped", "incomplete"]},
                "disclaimer": DISCLAIMER,
                "title": {"type": "string"},
            },
        },
        {
            "type": "object",
            "description": "Last event when the reply failed; the text so far is saved.",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string", "enum": ["error"]}, "message": {"type": "string"}},
        },
    ]
}

MESSAGE_PATH = {
    "post": {
        "operationId": "chats_message_stream",
        "summary": "Send a message and stream the AI reply (Server-Sent Events)",
        "description": (
            "Each event is one `data: <json>` line followed by a blank line; `: keep-alive` comment "
            "lines are sent while the model is silent. Errors before the stream starts are JSON."
        ),
        "tags": ["chats"],
        "security": [{"jwtAuth": []}],
        "parameters": [
            {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["message"],
                        "properties": {
                            "message": {"type": "string", "minLength": 1, "maxLength": 8000},
                            "personality": {"type": "string", "nullable": True},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "The reply as a stream of `data: <event>` lines.",
                "content": {"text/event-stream": {"schema": STREAM_EVENTS}},
            },
            **{
                code: {"description": description, "content": {"application/json": {"schema": ERROR_ENVELOPE}}}
                for code, description in {
                    "400": "Empty or too long message, unknown personality, or a body that is not JSON.",
                    "401": "No token or an invalid one.",
                    "404": "No such conversation for this user.",
                    "405": "Only POST is allowed.",
                    "409": "A reply is already being generated in this conversation.",
                    "413": "The request body is too large.",
                    "429": "Too many messages; see Retry-After.",
                }.items()
            },
        },
    }
}


def message_stream_path_add(result, generator, request, public):
    result.setdefault("paths", {})["/chats/{session_id}/message"] = MESSAGE_PATH
    return result
