"""The admin as support staff and superusers see it, through Django's test client."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from accounts.services import SUPPORT_GROUP, SUPPORT_PERMISSIONS
from chats.models import Conversation, ConversationAccess, Message
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/chats/conversation/"
ACCESS_LIST = "/admin/chats/conversationaccess/"


def change_url(conversation: Conversation) -> str:
    return f"{CHANGELIST}{conversation.pk}/change/"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support_user(db) -> User:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return user


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def support(support_user) -> Client:
    return logged_in(support_user)


@pytest.fixture
def admin(superuser) -> Client:
    return logged_in(superuser)


@pytest.fixture
def emergency(db) -> Conversation:
    conversation = ConversationFactory(title="Bleeding at 30 weeks", has_emergency=True, personality="midwife")
    MessageFactory(
        conversation=conversation,
        message="I have heavy bleeding and cramps",
        categories=["emergency", "pregnancy"],
        primary_category="emergency",
    )
    MessageFactory(
        conversation=conversation,
        sender=Message.Sender.AI,
        message="Please call your emergency number now.",
        categories=["emergency", "pregnancy"],
        primary_category="emergency",
    )
    return conversation


@pytest.fixture
def calm(db) -> Conversation:
    conversation = ConversationFactory(title="Sleep routines")
    MessageFactory(conversation=conversation, message="How do I get a newborn to sleep?")
    MessageFactory(
        conversation=conversation,
        sender=Message.Sender.AI,
        message="Short naps are normal.",
        status=Message.Status.ERROR,
        categories=["mental_health"],
        primary_category="mental_health",
    )
    return conversation


def listed(response) -> list[Conversation]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_support_group_has_exactly_view_rights_on_conversations_and_messages():
    group = Group.objects.get(name=SUPPORT_GROUP)
    granted = {(p.content_type.app_label, p.codename) for p in group.permissions.select_related("content_type")}
    assert granted == set(SUPPORT_PERMISSIONS) == {("chats", "view_conversation"), ("chats", "view_message")}


def test_support_reads_the_list_and_a_conversation_without_save_or_delete(support, emergency, calm):
    page = support.get(CHANGELIST)
    assert set(listed(page)) == {emergency, calm}
    assert "delete_selected" not in page.content.decode()

    response = support.get(change_url(emergency))
    assert response.status_code == 200
    html = response.content.decode()
    assert "I have heavy bleeding and cramps" in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "deletelink" not in html


def test_support_cannot_change_a_conversation(support, emergency):
    response = support.post(change_url(emergency), {"title": "Changed by support"})
    assert response.status_code == 403
    emergency.refresh_from_db()
    assert emergency.title == "Bleeding at 30 weeks"


def test_support_cannot_delete_a_conversation_or_a_message(support, emergency):
    message = emergency.messages.first()
    assert support.get(f"{CHANGELIST}{emergency.pk}/delete/").status_code == 403
    assert support.post(f"{CHANGELIST}{emergency.pk}/delete/", {"post": "yes"}).status_code == 403
    assert support.post(f"/admin/chats/message/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    support.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [emergency.pk], "post": "yes"})
    assert Conversation.objects.filter(pk=emergency.pk).exists()
    assert Message.objects.filter(pk=message.pk).exists()


def test_support_cannot_add_conversations_or_see_users(support):
    assert support.get(f"{CHANGELIST}add/").status_code == 403
    assert support.get("/admin/accounts/user/").status_code == 403


def test_superuser_can_still_rename_a_conversation(admin, emergency):
    response = admin.post(
        change_url(emergency),
        {
            "title": "Renamed",
            "messages-TOTAL_FORMS": "2",
            "messages-INITIAL_FORMS": "2",
            "messages-MIN_NUM_FORMS": "0",
            "messages-MAX_NUM_FORMS": "1000",
            "messages-0-id": str(emergency.messages.order_by("created_at", "id")[0].pk),
            "messages-0-conversation": str(emergency.pk),
            "messages-1-id": str(emergency.messages.order_by("created_at", "id")[1].pk),
            "messages-1-conversation": str(emergency.pk),
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    emergency.refresh_from_db()
    assert emergency.title == "Renamed"


def test_each_opening_of_a_conversation_is_recorded(support, support_user, admin, superuser, emergency, calm):
    support.get(CHANGELIST)
    assert not ConversationAccess.objects.exists()

    support.get(change_url(emergency))
    support.get(change_url(emergency))
    admin.get(change_url(calm))

    records = list(ConversationAccess.objects.order_by("accessed_at", "id"))
    assert [(r.staff, r.staff_email, r.conversation, r.conversation_ref, r.message_ref) for r in records] == [
        (support_user, support_user.email, emergency, emergency.pk, None),
        (support_user, support_user.email, emergency, emergency.pk, None),
        (superuser, superuser.email, calm, calm.pk, None),
    ]
    assert all(r.accessed_at is not None for r in records)


def test_opening_a_single_message_is_recorded_too(support, support_user, emergency):
    message = emergency.messages.first()
    assert support.get(f"/admin/chats/message/{message.pk}/change/").status_code == 200
    record = ConversationAccess.objects.get()
    assert (record.staff, record.conversation_ref, record.message_ref) == (support_user, emergency.pk, message.pk)


def test_refused_or_missing_conversations_are_not_recorded(support, emergency):
    support.post(change_url(emergency), {"title": "x"})
    support.get(f"{CHANGELIST}00000000-0000-0000-0000-000000000000/change/")
    assert not ConversationAccess.objects.exists()


def test_audit_records_are_for_superusers_only(support, admin, emergency):
    support.get(change_url(emergency))
    record = ConversationAccess.objects.get()

    assert support.get(ACCESS_LIST).status_code == 403
    assert support.get(f"{ACCESS_LIST}{record.pk}/change/").status_code == 403
    assert "conversationaccess" not in support.get("/admin/").content.decode()

    page = admin.get(ACCESS_LIST)
    assert page.status_code == 200 and list(page.context["cl"].result_list) == [record]
    assert admin.get(f"{ACCESS_LIST}{record.pk}/change/").status_code == 200
    assert admin.get(f"{ACCESS_LIST}add/").status_code == 403
    assert admin.post(f"{ACCESS_LIST}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ConversationAccess.objects.filter(pk=record.pk).exists()


def test_audit_record_outlives_the_conversation(support, emergency):
    support.get(change_url(emergency))
    conversation_id = emergency.pk
    emergency.user.delete()
    record = ConversationAccess.objects.get()
    assert record.conversation is None and record.conversation_ref == conversation_id


def test_search_by_a_phrase_from_a_message_finds_the_conversation(support, emergency, calm):
    found = listed(support.get(CHANGELIST, {"q": "heavy bleeding"}))
    assert found == [emergency]
    assert found[0].message_count == 2
    assert listed(support.get(CHANGELIST, {"q": '"newborn to sleep"'})) == [calm]
    assert listed(support.get(CHANGELIST, {"q": '"sleep newborn"'})) == []
    assert listed(support.get(CHANGELIST, {"q": emergency.user.email})) == [emergency]


def test_emergency_filter(support, emergency, calm):
    assert listed(support.get(CHANGELIST, {"has_emergency__exact": "1"})) == [emergency]
    assert listed(support.get(CHANGELIST, {"has_emergency__exact": "0"})) == [calm]


def test_category_status_and_personality_filters(support, emergency, calm):
    page = support.get(CHANGELIST)
    assert "?category=emergency" in page.content.decode() and "?category=mental_health" in page.content.decode()
    assert listed(support.get(CHANGELIST, {"category": "emergency"})) == [emergency]
    assert listed(support.get(CHANGELIST, {"category": "mental_health"})) == [calm]
    assert listed(support.get(CHANGELIST, {"status": "error"})) == [calm]
    assert listed(support.get(CHANGELIST, {"personality__exact": "midwife"})) == [emergency]


def test_list_columns(support, emergency):
    page = support.get(CHANGELIST)
    assert page.context["cl"].list_display == [
        "emergency_flag",
        "display_title",
        "user",
        "personality",
        "message_count",
        "last_activity",
    ]
    html = page.content.decode()
    assert emergency.title in html and emergency.user.email in html
