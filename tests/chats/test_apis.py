import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chats.models import Conversation, Message
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

SEED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")


def test_create_conversation(api, user):
    response = api.post("/chats", format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Chat session created successfully"
    data = body["data"]
    assert data["user_id"] == str(user.id)
    assert data["title"] is None
    assert data["personality"] == "mother_figure"
    assert SEED_TIME.match(data["created_at"])
    assert Conversation.objects.get(id=data["id"]).user == user


def test_create_conversation_with_personality_and_trailing_slash(api):
    response = api.post("/chats/", {"personality": "midwife"}, format="json")
    assert response.status_code == 201
    assert response.json()["data"]["personality"] == "midwife"


def test_create_conversation_uses_the_users_default_personality(api, user):
    user.default_personality = "best_friend"
    user.save()
    assert api.post("/chats", format="json").json()["data"]["personality"] == "best_friend"


def test_create_conversation_rejects_unknown_personality(api):
    response = api.post("/chats", {"personality": "pirate"}, format="json")
    assert response.status_code == 400
    assert "personality" in response.json()["errors"]


def test_create_conversation_cannot_set_owner_or_id(api, user, other_user):
    forced_id = str(uuid.uuid4())
    response = api.post(
        "/chats", {"user": str(other_user.id), "user_id": str(other_user.id), "id": forced_id}, format="json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["user_id"] == str(user.id)
    assert data["id"] != forced_id


def test_list_conversations_most_recently_active_first(api, user):
    now = timezone.now()
    old = ConversationFactory(user=user, last_activity_at=now - timedelta(days=2))
    new = ConversationFactory(user=user, last_activity_at=now)
    ConversationFactory()  # someone else's
    response = api.get("/chats")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "User conversation tiles retrieved successfully"
    ids = [conversation["id"] for conversation in body["data"]["conversations"]]
    assert ids == [str(new.id), str(old.id)]
    first = body["data"]["conversations"][0]
    assert set(first) == {"id", "user_id", "title", "personality", "created_at"}
    assert SEED_TIME.match(first["created_at"])
    assert body["data"]["pagination"] == {
        "page": 1,
        "per_page": 20,
        "total_count": 2,
        "total_pages": 1,
        "next": None,
        "prev": None,
    }


def test_list_pagination_links(api, user):
    ConversationFactory.create_batch(5, user=user)
    pagination = api.get("/chats/?page=2&per_page=2").json()["data"]["pagination"]
    assert pagination == {"page": 2, "per_page": 2, "total_count": 5, "total_pages": 3, "next": 3, "prev": 1}


def test_list_page_past_the_end_is_empty_with_true_totals(api, user):
    ConversationFactory.create_batch(3, user=user)
    data = api.get("/chats?page=9&per_page=2").json()["data"]
    assert data["conversations"] == []
    assert data["pagination"]["total_count"] == 3
    assert data["pagination"]["total_pages"] == 2
    assert data["pagination"]["next"] is None


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=1.5", "per_page"),
    ],
)
def test_list_rejects_bad_pagination(api, query, field):
    response = api.get(f"/chats?{query}")
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert field in body["message"]


@pytest.mark.parametrize("per_page", [1, 3, 4, 7])
def test_pages_read_from_either_end_join_up_in_order(api, user, per_page):
    """Back-half pages are read in reverse from the end; every page still lines up, ties included."""
    conversation = ConversationFactory(user=user)
    MessageFactory.create_batch(7, conversation=conversation)
    same_moment = timezone.now()
    Message.objects.filter(conversation=conversation).update(created_at=same_moment)
    MessageFactory.create_batch(3, conversation=conversation)
    expected = [
        str(pk)
        for pk in Message.objects.filter(conversation=conversation)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    ]
    pages = -(-len(expected) // per_page)
    seen = []
    for page in range(1, pages + 1):
        data = api.get(f"/chats/{conversation.id}?page={page}&per_page={per_page}").json()["data"]
        seen += [message["id"] for message in data["messages"]]
    assert seen == expected


def test_the_last_page_is_read_from_the_end(api, user):
    """The database would otherwise walk every row before it: the last page costs what the first does."""
    conversation = ConversationFactory(user=user)
    MessageFactory.create_batch(30, conversation=conversation)
    with CaptureQueriesContext(connection) as queries:
        messages = api.get(f"/chats/{conversation.id}?page=3&per_page=10").json()["data"]["messages"]
    page_query = next(q["sql"] for q in queries if 'FROM "chats_message"' in q["sql"] and "LIMIT 10" in q["sql"])
    assert "OFFSET" not in page_query and "DESC" in page_query
    assert [m["id"] for m in messages] == [
        str(pk)
        for pk in Message.objects.filter(conversation=conversation)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[20:]
    ]


def test_list_costs_constant_queries(api, user):
    ConversationFactory.create_batch(3, user=user)
    with CaptureQueriesContext(connection) as small:
        api.get("/chats?per_page=3")
    ConversationFactory.create_batch(40, user=user)
    with CaptureQueriesContext(connection) as large:
        api.get("/chats?per_page=100")
    assert len(small) == len(large)


def test_retrieve_costs_constant_queries(api, user):
    conversation = ConversationFactory(user=user)
    MessageFactory.create_batch(2, conversation=conversation)
    with CaptureQueriesContext(connection) as small:
        api.get(f"/chats/{conversation.id}")
    MessageFactory.create_batch(40, conversation=conversation)
    with CaptureQueriesContext(connection) as large:
        api.get(f"/chats/{conversation.id}?per_page=100")
    assert len(small) == len(large)


def test_reading_a_conversation_writes_nothing(api, user):
    """A read pays no write, even with a reply streaming; only a dead one shown is recovered."""
    conversation = ConversationFactory(user=user)
    MessageFactory(conversation=conversation, message="Hello")
    live = MessageFactory(conversation=conversation, sender="ai", status="streaming")
    with CaptureQueriesContext(connection) as queries:
        messages = api.get(f"/chats/{conversation.id}").json()["data"]["messages"]
    assert [q["sql"].split()[0] for q in queries] == ["SELECT"] * 4
    assert messages[-1]["status"] == "streaming"
    live.refresh_from_db()
    assert live.status == "streaming"


def test_retrieve_conversation_with_messages_oldest_first(api, user):
    conversation = ConversationFactory(user=user, title="My First Chat")
    first = MessageFactory(conversation=conversation, message="Hello, Nora!")
    second = MessageFactory(conversation=conversation, sender="ai", message="Hello! How can I help?")
    Message.objects.filter(id=first.id).update(created_at=timezone.now() - timedelta(seconds=5))
    response = api.get(f"/chats/{conversation.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Conversation retrieved successfully"
    assert body["data"]["conversation"]["title"] == "My First Chat"
    messages = body["data"]["messages"]
    assert [m["id"] for m in messages] == [str(first.id), str(second.id)]
    assert messages[0] == {
        "id": str(first.id),
        "sender": "user",
        "message": "Hello, Nora!",
        "status": "complete",
        "source": "text",
        "disclaimer": None,
        "created_at": messages[0]["created_at"],
    }
    assert SEED_TIME.match(messages[0]["created_at"])
    assert body["data"]["pagination"]["total_count"] == 2


def test_retrieve_paginates_messages(api, user):
    conversation = ConversationFactory(user=user)
    MessageFactory.create_batch(5, conversation=conversation)
    data = api.get(f"/chats/{conversation.id}/?page=3&per_page=2").json()["data"]
    assert len(data["messages"]) == 1
    assert data["pagination"] == {"page": 3, "per_page": 2, "total_count": 5, "total_pages": 3, "next": None, "prev": 2}


def test_rename_conversation(api, user):
    conversation = ConversationFactory(user=user)
    response = api.patch(f"/chats/{conversation.id}/title", {"title": "  My New Chat Title  "}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Chat session title updated successfully."
    assert body["data"]["title"] == "My New Chat Title"
    conversation.refresh_from_db()
    assert conversation.title == "My New Chat Title"


@pytest.mark.parametrize("body", [{"title": ""}, {"title": "   "}, {"title": "x" * 256}, {}, {"title": None}])
def test_rename_rejects_bad_titles(api, user, body):
    conversation = ConversationFactory(user=user, title="Keep me")
    response = api.patch(f"/chats/{conversation.id}/title/", body, format="json")
    assert response.status_code == 400
    assert "title" in response.json()["errors"]
    conversation.refresh_from_db()
    assert conversation.title == "Keep me"


def test_rename_accepts_255_characters(api, user):
    conversation = ConversationFactory(user=user)
    assert api.patch(f"/chats/{conversation.id}/title", {"title": "x" * 255}, format="json").status_code == 200


def test_delete_conversation_deletes_its_messages(api, user):
    conversation = ConversationFactory(user=user)
    MessageFactory.create_batch(3, conversation=conversation)
    response = api.delete(f"/chats/{conversation.id}")
    assert response.status_code == 200
    assert response.json() == {"message": "Conversation deleted", "success": True}
    assert not Conversation.objects.filter(id=conversation.id).exists()
    assert not Message.objects.filter(conversation_id=conversation.id).exists()


def test_someone_elses_conversation_is_404_on_every_verb(api, other_user):
    theirs = ConversationFactory(user=other_user, title="Private")
    MessageFactory(conversation=theirs, message="secret")
    for response in (
        api.get(f"/chats/{theirs.id}"),
        api.patch(f"/chats/{theirs.id}/title", {"title": "Mine now"}, format="json"),
        api.delete(f"/chats/{theirs.id}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"message": "Conversation not found.", "errors": {}}
    theirs.refresh_from_db()
    assert theirs.title == "Private"
    assert theirs.messages.count() == 1


def test_unknown_and_malformed_ids_are_404_json(api):
    assert api.get(f"/chats/{uuid.uuid4()}").status_code == 404
    response = api.get("/chats/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["message"] == "Not found."


@pytest.mark.parametrize("method, path", [("get", "/chats"), ("post", "/chats"), ("get", f"/chats/{uuid.uuid4()}")])
def test_chats_require_a_token(anon, method, path):
    response = getattr(anon, method)(path)
    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}


def test_personalities_are_public(anon):
    response = anon.get("/personalities")
    assert response.status_code == 200
    keys = [p["key"] for p in response.json()["data"]]
    assert "mother_figure" in keys and len(keys) >= 4
    assert set(response.json()["data"][0]) == {"key", "name", "description"}


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999"])
def test_an_enormous_page_is_empty_not_an_error(api, user, page):
    ConversationFactory(user=user)
    response = api.get(f"/chats?page={page}")
    assert response.status_code == 200
    assert response.json()["data"]["conversations"] == []
    assert response.json()["data"]["pagination"]["total_count"] == 1
