"""The admin as support staff use it, in headless Chromium against a real daphne and PostgreSQL.

A Support user (made by createsupportuser) signs in, finds a conversation by a phrase from one
of its messages, reads the transcript, filters emergencies, and is refused every change.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from chats.models import Conversation, ConversationAccess, Message
from tests.e2e.browsers import orm
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUPPORT_EMAIL = "sam@support.example"
SUPPORT_PASSWORD = "a-long-support-pass-phrase"
CHANGELIST = "/admin/chats/conversation/"
# In one message only; another message holds every one of its words, but not in this order.
PHRASE = "sciatica down my left leg"
COLUMNS = ["Emergency", "Title", "User", "Personality", "Messages", "Last activity"]


@dataclass
class Transcripts:
    searched: Conversation
    emergency: Conversation


def conversation_with(
    user: User, *, title: str, minutes_ago: int, texts: list[str], category: str = "", **fields
) -> Conversation:
    """A conversation whose messages alternate parent and Nora, each triaged as `category`, last
    active `minutes_ago`."""
    conversation = ConversationFactory(user=user, title=title, **fields)
    for index, text in enumerate(texts):
        sender = Message.Sender.USER if index % 2 == 0 else Message.Sender.AI
        categories = [category] if category else []
        MessageFactory(
            conversation=conversation, sender=sender, message=text, primary_category=category, categories=categories
        )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_activity_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def transcripts(transactional_db) -> Transcripts:
    parent = UserFactory(email="ada@example.com")
    conversation_with(
        parent,
        title="Sleep routines",
        minutes_ago=30,
        personality="mother_figure",
        texts=["How do I get a newborn to sleep?", "Short naps are normal in the first weeks."],
    )
    searched = conversation_with(
        parent,
        title="Back pain at 24 weeks",
        minutes_ago=20,
        personality="best_friend",
        texts=[
            f"I have {PHRASE} since Monday",
            "That sounds uncomfortable; gentle stretches and a warm bath often help.",
            "Thanks, I will try that",
        ],
    )
    # Every word of the phrase, in another order: a search for the quoted phrase must skip it.
    conversation_with(
        parent,
        title="Left side sleeping",
        minutes_ago=25,
        personality="midwife",
        texts=["Should my left leg be down or up when I sleep, and is sciatica normal?", "Either is fine."],
    )
    emergency = conversation_with(
        parent,
        title="Bleeding at 30 weeks",
        minutes_ago=10,
        personality="midwife",
        has_emergency=True,
        category="emergency",
        texts=[
            "I'm 30 weeks pregnant and bleeding heavily",
            "This could be an emergency. Please call your maternity unit now.",
        ],
    )
    return Transcripts(searched=searched, emergency=emergency)


@pytest.fixture
def support_user(transactional_db) -> User:
    call_command("createsupportuser", "--email", SUPPORT_EMAIL, "--password", SUPPORT_PASSWORD, stdout=StringIO())
    return User.objects.get(email=SUPPORT_EMAIL)


def listed_titles(page: Page) -> list[str]:
    return page.locator("#result_list tbody .field-display_title").all_text_contents()


def test_support_finds_reads_and_filters_conversations_and_changes_nothing(transcripts, support_user, page, tmp_path):
    """Support signs in, finds a conversation by a phrase from one of its messages, reads its
    transcript (an access record is written), filters emergencies, and every change is refused."""
    page.goto("/admin/login/")
    page.get_by_label("Email").fill(SUPPORT_EMAIL)
    page.get_by_label("Password").fill(SUPPORT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    # Nora's admin, not "Django administration".
    expect(page).to_have_title("Conversations and accounts | Nora support")
    expect(page.locator("#site-name")).to_have_text("Nora support")
    # Conversations and messages, and nothing about who read what.
    expect(page.get_by_role("link", name="Conversations", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    expect(page.get_by_text("Conversation accesses")).to_have_count(0)
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Conversations", exact=True).click()
    expect(page).to_have_url(re.compile(f"{CHANGELIST}$"))
    expect(page.locator("#result_list thead th")).to_have_text(COLUMNS)
    # Most recently active first; nothing to select, as support has no bulk action.
    expect(page.locator("#result_list tbody .field-display_title")).to_have_text(
        ["Bleeding at 30 weeks", "Back pain at 24 weeks", "Left side sleeping", "Sleep routines"]
    )
    expect(page.locator("#result_list input[type=checkbox]")).to_have_count(0)
    page.screenshot(path=tmp_path / "changelist.png", full_page=True)

    page.locator("#searchbar").fill(f'"{PHRASE}"')
    page.locator("#searchbar").press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    row = page.locator("#result_list tbody tr")
    expect(row.locator(".field-display_title")).to_have_text("Back pain at 24 weeks")
    expect(row.locator(".field-user")).to_have_text("ada@example.com")
    expect(row.locator(".field-personality")).to_have_text("Best friend")
    # All of its messages, not only the one the search matched.
    expect(row.locator(".field-message_count")).to_have_text("3")
    expect(row.locator(".field-last_activity")).not_to_be_empty()
    expect(row.locator(".field-emergency_flag")).to_have_text("")

    row.get_by_role("link", name="Back pain at 24 weeks").click()
    searched = transcripts.searched
    expect(page).to_have_url(re.compile(f"{CHANGELIST}{searched.pk}/change/"))
    transcript = page.locator("#messages-group")
    expect(transcript.locator("td.field-message")).to_have_text(
        [
            f"I have {PHRASE} since Monday",
            "That sounds uncomfortable; gentle stretches and a warm bath often help.",
            "Thanks, I will try that",
        ]
    )
    expect(transcript.locator("td.field-sender")).to_have_text(["User", "AI", "User"])
    # Read-only: no fields to edit, nothing to add or delete, on the messages or the conversation.
    # (The header's Log out and theme toggle are the only buttons on the page.)
    content = page.locator("#content-main")
    expect(content.locator("input:not([type=hidden]), textarea, select, button")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Save"))).to_have_count(0)
    expect(page.locator("a.deletelink")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Delete"))).to_have_count(0)
    expect(content.locator(".submit-row")).to_have_text(re.compile(r"^\s*Close\s*$"))
    # inlines.js adds the link to every inline and hides it where no message may be added.
    expect(page.get_by_text("Add another Message")).to_be_hidden()

    fields = ["staff_id", "staff_email", "conversation_id", "conversation_ref", "message_ref"]
    opened = orm(lambda: list(ConversationAccess.objects.values_list(*fields)))
    assert opened == [(support_user.pk, SUPPORT_EMAIL, searched.pk, searched.pk, None)]

    # A change sent as the page's own form would send it, with a valid CSRF token, is refused.
    change_url = f"{CHANGELIST}{searched.pk}/change/"
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    origin = page.evaluate("location.origin")
    refused = page.request.post(
        change_url,
        form={
            "csrfmiddlewaretoken": token,
            "title": "Changed by support",
            "_save": "Save",
            "messages-TOTAL_FORMS": "3",
            "messages-INITIAL_FORMS": "3",
        },
        headers={"Origin": origin, "Referer": f"{origin}{change_url}"},
        max_redirects=0,
    )
    assert refused.status == 403
    assert "CSRF" not in refused.text(), "refused by the CSRF check, so the right itself went untested"
    deletion = f"{CHANGELIST}{searched.pk}/delete/"
    assert page.request.get(deletion, max_redirects=0).status == 403
    deleted = page.request.post(
        deletion,
        form={"csrfmiddlewaretoken": token, "post": "yes"},
        headers={"Origin": origin, "Referer": f"{origin}{deletion}"},
        max_redirects=0,
    )
    assert deleted.status == 403
    assert orm(lambda: Conversation.objects.get(pk=searched.pk).title) == "Back pain at 24 weeks"
    assert orm(Conversation.objects.count) == 4
    assert orm(Message.objects.count) == 9
    # Who read what is for superusers.
    assert page.request.get("/admin/chats/conversationaccess/", max_redirects=0).status == 403

    page.go_back()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(CHANGELIST)
    filters = page.locator("#changelist-filter")
    filters.locator("[data-filter-title='has emergency']").get_by_role("link", name="Yes").click()
    expect(page).to_have_url(re.compile(r"has_emergency__exact=1"))
    expect(page.locator("#result_list tbody .field-display_title")).to_have_text(["Bleeding at 30 weeks"])
    emergency_url = f"{CHANGELIST}{transcripts.emergency.pk}/change/"
    expect(page.locator("#result_list tbody .field-display_title a")).to_have_attribute(
        "href", re.compile(f"^{emergency_url}")
    )
    expect(page.locator("#result_list tbody .field-emergency_flag")).to_have_text("⚠ Emergency")
    # The same conversation by its messages' triage category.
    page.goto(CHANGELIST)
    filters.locator("[data-filter-title='category']").get_by_role("link", name="Emergency").click()
    expect(page).to_have_url(re.compile(r"category=emergency"))
    expect(page.locator("#result_list tbody .field-display_title")).to_have_text(["Bleeding at 30 weeks"])

    # Listing, searching and filtering read no transcript; only the one opening was recorded.
    assert orm(ConversationAccess.objects.count) == 1


@pytest.fixture
def long_row(transactional_db) -> Conversation:
    """A conversation with a long title, from a parent with a long email."""
    parent = UserFactory(email="alexandra.montgomery-fitzgerald.newborn-questions@example.co.uk")
    return conversation_with(
        parent,
        title="Is it normal for a three week old to feed every hour through the night and sleep all afternoon",
        minutes_ago=5,
        texts=["Feeding every hour at night", "Cluster feeding is common in the early weeks."],
    )


def test_the_conversation_list_fits_a_1280_pixel_screen(long_row, support_user, page):
    """Every column, "Last activity" included, is on screen beside the filters, with a long
    title and a long email in the list, and nothing scrolls sideways."""
    page.goto("/admin/login/")
    page.get_by_label("Email").fill(SUPPORT_EMAIL)
    page.get_by_label("Password").fill(SUPPORT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(CHANGELIST)

    expect(page.locator("#result_list thead th")).to_have_text(COLUMNS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    results = page.locator("#changelist .results").bounding_box()
    for cell in page.locator("#result_list thead th, #result_list tbody td").all():
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= results["x"] + results["width"] + 1, cell.text_content()
    filters = page.locator("#changelist-filter").bounding_box()
    assert results["x"] + results["width"] <= filters["x"]
    last_activity = page.locator("#result_list tbody .field-last_activity").first
    assert last_activity.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
