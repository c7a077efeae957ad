"""The caller's own data: a complete export in a constant number of queries, and account deletion."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from chats.models import Conversation, Message
from tests.conftest import bearer_client
from tests.factories import TEST_PASSWORD, ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

DISCLAIMER = {
    "primary_category": "emergency",
    "detected_categories": ["emergency", "pregnancy"],
    "message": "This information is for educational purposes only.",
}


def _conversation_with_messages(user: User, count: int) -> Conversation:
    conversation = ConversationFactory(user=user, has_emergency=True)
    for _ in range(count):
        MessageFactory(
            conversation=conversation,
            message="I have heavy bleeding",
            categories=["emergency", "pregnancy"],
            primary_category="emergency",
        )
        MessageFactory(
            conversation=conversation,
            sender=Message.Sender.AI,
            message="Please call now.",
            source=Message.Source.VOICE,
            personality="midwife",
            categories=["emergency", "pregnancy"],
            primary_category="emergency",
            disclaimer=DISCLAIMER,
            model="claude-test",
            input_tokens=12,
            output_tokens=34,
            status=Message.Status.STOPPED,
        )
    return conversation


def test_export_holds_profile_conversations_and_every_message_field(api, user, other_user):
    conversation = _conversation_with_messages(user, 1)
    _conversation_with_messages(other_user, 1)

    response = api.get("/auth/me/export")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="nora-export-')
    body = response.json()
    assert body["message"] and set(body) == {"message", "data"}
    data = body["data"]
    assert set(data) == {"exported_at", "profile", "conversations"}
    assert data["profile"]["id"] == str(user.id) and data["profile"]["email"] == user.email
    assert set(data["profile"]) == {
        "id",
        "email",
        "name",
        "due_date",
        "default_personality",
        "country",
        "language",
        "created_at",
        "last_login",
    }
    assert [c["id"] for c in data["conversations"]] == [str(conversation.id)]
    exported = data["conversations"][0]
    assert exported["title"] == conversation.title and exported["has_emergency"] is True
    assert [m["sender"] for m in exported["messages"]] == ["user", "ai"]
    reply = exported["messages"][1]
    assert reply == {
        "id": reply["id"],
        "sender": "ai",
        "message": "Please call now.",
        "status": "stopped",
        "source": "voice",
        "personality": "midwife",
        "categories": ["emergency", "pregnancy"],
        "primary_category": "emergency",
        "disclaimer": DISCLAIMER,
        "model": "claude-test",
        "input_tokens": 12,
        "output_tokens": 34,
        "created_at": reply["created_at"],
        "updated_at": reply["updated_at"],
    }
    assert "password" not in response.content.decode()


def test_export_of_an_empty_account(api, user):
    data = api.get("/auth/me/export/").json()["data"]
    assert data["conversations"] == [] and data["profile"]["email"] == user.email


def test_export_query_count_does_not_grow_with_the_data(django_assert_num_queries):
    small, large = UserFactory(), UserFactory()
    _conversation_with_messages(small, 1)
    for _ in range(4):
        _conversation_with_messages(large, 5)

    small_client, large_client = bearer_client(small), bearer_client(large)

    # One to authenticate the token's user, one for conversations, one for all their messages.
    with django_assert_num_queries(3):
        small_body = small_client.get("/auth/me/export").json()
    with django_assert_num_queries(3):
        large_body = large_client.get("/auth/me/export").json()
    assert len(small_body["data"]["conversations"]) == 1
    assert sum(len(c["messages"]) for c in large_body["data"]["conversations"]) == 40


def test_export_requires_a_token(anon):
    response = anon.get("/auth/me/export")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}


def _login(anon, user) -> dict:
    return anon.post("/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json").json()["data"]


def test_delete_with_the_right_password_removes_everything_the_account_owns(anon, user, other_user):
    tokens = _login(anon, user)
    anon.post("/auth/logout", {"refresh": _login(anon, user)["refresh"]}, format="json")  # a blacklisted one too
    _conversation_with_messages(user, 2)
    kept = _conversation_with_messages(other_user, 1)
    assert OutstandingToken.objects.filter(user=user).count() == 2
    client = bearer_client(user)

    response = client.delete("/auth/me", {"password": TEST_PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {"message": "Account deleted", "data": None}
    assert not User.objects.filter(id=user.id).exists()
    assert not Conversation.objects.filter(user_id=user.id).exists()
    assert set(Message.objects.values_list("conversation_id", flat=True)) == {kept.id}
    assert not OutstandingToken.objects.filter(user__isnull=True).exists()
    assert not BlacklistedToken.objects.exists()
    assert User.objects.filter(id=other_user.id).exists()
    # The refresh token from before cannot bring the account back.
    assert anon.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_access_token_is_rejected_after_deletion(user):
    client = bearer_client(user)
    assert client.delete("/auth/me/", {"password": TEST_PASSWORD}, format="json").status_code == 200

    for response in (client.get("/auth/me"), client.get("/auth/me/export"), client.get("/chats")):
        assert response.status_code == 401
        assert set(response.json()) == {"message", "errors"}


def test_delete_with_a_wrong_password_keeps_the_account(api, user):
    ConversationFactory(user=user)
    response = api.delete("/auth/me", {"password": "not-my-password"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"message": "Incorrect password.", "errors": {"password": ["Incorrect password."]}}
    assert User.objects.filter(id=user.id).exists() and Conversation.objects.filter(user=user).exists()
    assert api.get("/auth/me").status_code == 200


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"pass": TEST_PASSWORD}])
def test_delete_without_a_password_is_400(api, user, body):
    response = api.delete("/auth/me", body, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert User.objects.filter(id=user.id).exists()


def test_delete_without_a_token_is_401(anon, user):
    response = anon.delete("/auth/me", {"password": TEST_PASSWORD}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}
    assert User.objects.filter(id=user.id).exists()


def test_wrong_delete_passwords_are_throttled_with_logins(api, user, settings):
    settings.NORA_AUTH_ACCOUNT_FAILURES = 2
    for _ in range(2):
        assert api.delete("/auth/me", {"password": "guess"}, format="json").status_code == 400
    response = api.delete("/auth/me", {"password": TEST_PASSWORD}, format="json")
    assert response.status_code == 429
    assert User.objects.filter(id=user.id).exists()


def test_schema_describes_export_and_delete(anon):
    paths = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    me = next(operations for path, operations in paths.items() if path.rstrip("/") == "/auth/me")
    export = next(operations for path, operations in paths.items() if path.rstrip("/") == "/auth/me/export")
    assert me["delete"]["requestBody"]["required"] is True
    assert {"200", "400", "401"} <= set(me["delete"]["responses"])
    assert "200" in export["get"]["responses"]
