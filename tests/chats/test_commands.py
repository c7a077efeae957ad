"""createsupportuser and seeddemo, called as management commands."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User
from accounts.services import SUPPORT_GROUP, SUPPORT_PERMISSIONS
from chats.models import Conversation, Message
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "support-staff-passphrase-7"


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def run(name: str, *args, **options) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue()


def test_createsupportuser_makes_a_staff_reader_who_is_not_a_superuser():
    output = run("createsupportuser", "--email", "Sam@Nora.Example", "--password", PASSWORD)

    user = User.objects.get(email="sam@nora.example")
    assert "sam@nora.example" in output
    assert user.is_staff and user.is_active and not user.is_superuser
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [SUPPORT_GROUP]
    assert user.get_all_permissions() == {"chats.view_conversation", "chats.view_message"}
    client = Client()
    assert client.login(username="sam@nora.example", password=PASSWORD)
    assert client.get("/admin/chats/conversation/").status_code == 200


def answers(monkeypatch, *replies: str) -> None:
    """What the person types at each getpass prompt of createsupportuser."""
    typed = iter(replies)
    monkeypatch.setattr("accounts.management.commands.createsupportuser.getpass", lambda prompt: next(typed))


def test_createsupportuser_asks_for_the_password_at_a_terminal(monkeypatch):
    answers(monkeypatch, PASSWORD, PASSWORD)
    run("createsupportuser", email="ask@nora.example", stdin=Terminal())
    assert User.objects.get(email="ask@nora.example").check_password(PASSWORD)


def test_createsupportuser_refuses_mismatched_passwords(monkeypatch):
    answers(monkeypatch, PASSWORD, "other")
    with pytest.raises(CommandError, match="did not match"):
        run("createsupportuser", email="ask@nora.example", stdin=Terminal())
    assert not User.objects.filter(email="ask@nora.example").exists()


def test_createsupportuser_without_a_password_or_terminal_fails():
    with pytest.raises(CommandError, match="--password"):
        run("createsupportuser", email="ask@nora.example", stdin=StringIO())


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("weak@nora.example", "password", "stronger password"),
        ("not-an-email", PASSWORD, "valid email"),
    ],
)
def test_createsupportuser_rejects_bad_input(email, password, error):
    with pytest.raises(CommandError, match=error):
        run("createsupportuser", email=email, password=password)
    assert not User.objects.filter(is_staff=True).exists()


def test_createsupportuser_will_not_turn_an_existing_account_into_staff():
    parent = UserFactory(email="parent@nora.example")
    with pytest.raises(CommandError, match="already exists"):
        run("createsupportuser", email="Parent@nora.example", password=PASSWORD)
    parent.refresh_from_db()
    assert not parent.is_staff and parent.check_password(TEST_PASSWORD)


def test_createsupportuser_remakes_a_missing_support_group():
    Group.objects.filter(name=SUPPORT_GROUP).delete()
    run("createsupportuser", email="sam@nora.example", password=PASSWORD)
    group = Group.objects.get(name=SUPPORT_GROUP)
    assert {(p.content_type.app_label, p.codename) for p in group.permissions.all()} == set(SUPPORT_PERMISSIONS)


def _password_from(output: str) -> str:
    line = next(line for line in output.splitlines() if "Password (shown only this once)" in line)
    return line.rsplit(": ", 1)[1].strip()


def test_seeddemo_creates_the_demo_account_and_its_conversations():
    output = run("seeddemo")

    user = User.objects.get(email="demo@nora.local")
    assert not user.is_staff and user.check_password(_password_from(output))
    conversations = Conversation.objects.filter(user=user)
    assert conversations.count() == 4
    assert Message.objects.filter(conversation__user=user).count() >= 8
    emergency = conversations.get(has_emergency=True)
    assert emergency.messages.filter(primary_category="emergency", sender="user").exists()
    reply = emergency.messages.get(sender="ai")
    assert reply.disclaimer["primary_category"] == "emergency" and reply.personality == "midwife"
    assert all(c.messages.exists() and c.last_activity_at >= c.created_at for c in conversations)


def test_seeddemo_is_idempotent_and_keeps_the_password():
    password = _password_from(run("seeddemo"))
    counts = (Conversation.objects.count(), Message.objects.count(), User.objects.count())

    again = run("seeddemo")

    assert (Conversation.objects.count(), Message.objects.count(), User.objects.count()) == counts
    assert "Password unchanged" in again and "shown only this once" not in again
    assert User.objects.get(email="demo@nora.local").check_password(password)


def test_seeddemo_reset_password_prints_a_new_one():
    first = _password_from(run("seeddemo"))
    second = _password_from(run("seeddemo", "--reset-password"))
    user = User.objects.get(email="demo@nora.local")
    assert first != second and user.check_password(second) and not user.check_password(first)
    assert Conversation.objects.filter(user=user).count() == 4


def test_demo_user_can_log_in_and_export(anon):
    password = _password_from(run("seeddemo"))
    response = anon.post("/auth/login", {"email": "demo@nora.local", "password": password}, format="json")
    assert response.status_code == 200
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['data']['access']}")
    assert len(anon.get("/auth/me/export").json()["data"]["conversations"]) == 4
