"""Two users, and every way one could reach the other's conversations: all 404, nothing read or changed."""

import pytest
from asgiref.sync import sync_to_async

from chats.models import Conversation, Message
from tests.factories import ConversationFactory, MessageFactory
from tests.sockets import socket_communicator
from tests.streams import message_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def victim_conversation(other_user):
    conversation = ConversationFactory(user=other_user, title="Private")
    MessageFactory(conversation=conversation, message="my private worry")
    MessageFactory(conversation=conversation, sender="ai", status="streaming", message="half a reply")
    return conversation


def snapshot(conversation) -> tuple:
    conversation.refresh_from_db()
    messages = list(conversation.messages.order_by("created_at").values_list("id", "message", "status", "sender"))
    return conversation.title, conversation.personality, conversation.last_activity_at, messages


def test_every_rest_verb_is_404_on_someone_elses_conversation(api, victim_conversation):
    before = snapshot(victim_conversation)
    path = f"/chats/{victim_conversation.id}"
    for response in (
        api.get(path),
        api.get(f"{path}/"),
        api.patch(f"{path}/title", {"title": "stolen"}, format="json"),
        api.delete(path),
        api.post(f"{path}/stop"),
    ):
        assert response.status_code == 404, response
        assert "my private worry" not in response.content.decode()
        assert "Private" not in response.content.decode()
    assert snapshot(victim_conversation) == before


def test_listing_shows_only_the_callers_conversations(api, user, victim_conversation):
    mine = ConversationFactory(user=user)
    ids = [c["id"] for c in api.get("/chats").json()["data"]["conversations"]]
    assert ids == [str(mine.id)]


async def test_the_stream_is_404_on_someone_elses_conversation(user, victim_conversation):
    before = await sync_to_async(snapshot)(victim_conversation)
    response, _ = await message_post(user, victim_conversation.id, {"message": "hi"})
    assert response.status_code == 404
    assert await sync_to_async(snapshot)(victim_conversation) == before


async def test_the_voice_socket_gives_a_new_conversation_instead_of_someone_elses(user, victim_conversation):
    communicator = socket_communicator(user, victim_conversation.id, query="")
    await communicator.connect()
    status = await communicator.receive_json_from(timeout=5)
    assert status["session_id"] != str(victim_conversation.id)
    assert (await Conversation.objects.aget(id=status["session_id"])).user_id == user.id
    await communicator.disconnect()


def test_clients_cannot_set_owner_id_time_sender_or_status(api, user, other_user):
    created = api.post(
        "/chats",
        {
            "user": str(other_user.id),
            "user_id": str(other_user.id),
            "id": "00000000-0000-0000-0000-000000000001",
            "created_at": "2000-01-01T00:00:00",
            "title": "forced",
        },
        format="json",
    ).json()["data"]
    assert created["user_id"] == str(user.id)
    assert created["id"] != "00000000-0000-0000-0000-000000000001"
    assert not created["created_at"].startswith("2000")
    assert created["title"] is None
    renamed = api.patch(
        f"/chats/{created['id']}/title",
        {"title": "ok", "user_id": str(other_user.id), "created_at": "2000-01-01T00:00:00"},
        format="json",
    ).json()["data"]
    assert renamed["user_id"] == str(user.id) and not renamed["created_at"].startswith("2000")


async def test_a_message_cannot_set_its_sender_status_or_id(user):
    conversation = await sync_to_async(ConversationFactory)(user=user)
    forged = {
        "message": "hello",
        "sender": "ai",
        "status": "error",
        "id": "00000000-0000-0000-0000-000000000002",
        "created_at": "2000-01-01T00:00:00",
    }
    await message_post(user, conversation.id, forged)
    user_message = await Message.objects.filter(conversation=conversation, sender="user").aget()
    assert user_message.message == "hello" and user_message.status == "complete"
    assert str(user_message.id) != "00000000-0000-0000-0000-000000000002"
    assert user_message.created_at.year != 2000
