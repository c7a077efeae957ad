"""The playground at / in headless Chromium against a real daphne, PostgreSQL and Redis.

Replies come from the fake Anthropic server through the real SDK; voice goes through a fake
microphone playing a WAV spoken by espeak-ng, the page's AudioWorklet and the offline
(PocketSphinx) recogniser. The browser is Debian's chromium, driven by Playwright.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chats.models import Conversation, Message
from tests.e2e.browsers import CHROMIUM_ARGS, TIMEOUT_MS, orm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A microphone that plays the spoken question (the file is given by `chromium_args`).
FAKE_MICROPHONE_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PASSWORD = "a-long-pass-phrase"
SPOKEN = "Is it normal to feel tired during pregnancy"


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """A question spoken by espeak-ng, as 16 kHz mono 16-bit WAV with a little silence around it."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"The voice test needs {' and '.join(missing)}: apt-get install -y espeak-ng sox")
    folder = tmp_path_factory.mktemp("speech")
    spoken, wav = folder / "spoken.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(spoken), SPOKEN], check=True)
    subprocess.run(
        ["sox", str(spoken), "-r", "16000", "-c", "1", "-b", "16", str(wav), "pad", "0.3", "0.7"], check=True
    )
    return wav


@pytest.fixture
def chromium_args(speech_wav) -> list[str]:
    return [*CHROMIUM_ARGS, *FAKE_MICROPHONE_ARGS, f"--use-file-for-fake-audio-capture={speech_wav}"]


def register(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_role("tab", name="Create account").click()
    form = page.get_by_role("tabpanel", name="Create account")
    form.get_by_label("Your name").fill("Ada")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def message_send(page: Page, text: str) -> None:
    box = page.get_by_label("Message to Nora")
    box.fill(text)
    box.press("Enter")


def test_register_chat_stop_rename_delete_emergency_and_log_in_again(page, anthropic_server):
    """A new user registers, sees a reply stream in, stops another, finds both after a reload
    that needed a token refresh, renames and deletes the chat, sees an emergency answered with
    the urgent banner, logs out and back in."""
    tokens = "Tiredness| is| very| common| in| the| first| weeks|;| rest| when| you| can|.".split("|")
    anthropic_server.reply_script(tokens=tokens, token_interval=0.1)
    anthropic_server.reply_script(tokens=[f" more{index}" for index in range(200)], token_interval=0.03)
    register(page, "ada@example.com")

    message_send(page, "Is it normal to feel tired?")
    reply = page.locator(".message-ai").last
    bubble = reply.locator(".bubble")
    # Part of the reply is on the page while the rest is still being written.
    page.wait_for_function(
        """() => {
            const reply = [...document.querySelectorAll(".message-ai")].pop();
            const bubble = reply && reply.querySelector(".bubble");
            return reply && reply.getAttribute("aria-busy") === "true" && bubble.textContent.length > 0;
        }""",
        timeout=TIMEOUT_MS,
    )
    partial = bubble.text_content()
    expect(reply).to_have_attribute("data-status", "complete")
    full = "".join(tokens)
    assert full.startswith(partial) and len(partial) < len(full)
    assert bubble.text_content() == full

    saved = orm(lambda: Message.objects.get(conversation__user__email="ada@example.com", sender="ai"))
    assert (saved.message, saved.status) == (full, "complete")
    assert reply.get_attribute("data-message-id") == str(saved.id)
    # A general category's disclaimer is a quiet line under the reply.
    expect(reply.locator(".disclaimer")).to_have_text(saved.disclaimer["message"])
    expect(reply.get_by_role("alert")).to_have_count(0)
    sidebar = page.get_by_role("navigation", name="Conversations")
    expect(sidebar.locator(".conversation-title")).to_have_text(["Feeling Well Today"])
    expect(page.get_by_role("heading", level=2, name="Feeling Well Today")).to_be_visible()

    # Stop ends a long reply; what was written is kept and marked.
    message_send(page, "Tell me more")
    stopped = page.locator(".message-ai").last
    # Stopped well before its 200 chunks are through, as a person would.
    expect(stopped.locator(".bubble")).to_contain_text("more10")
    page.get_by_role("button", name="Stop").click()
    expect(stopped).to_have_attribute("data-status", "stopped")
    expect(stopped.locator(".badge-status")).to_have_text("Stopped")
    stopped_id = stopped.get_attribute("data-message-id")
    cut = orm(lambda: Message.objects.get(id=stopped_id))
    assert cut.status == "stopped" and 0 < len(cut.message) < len("".join(f" more{index}" for index in range(200)))
    assert stopped.locator(".bubble").text_content() == cut.message

    # After a reload with an access token the server refuses, the page refreshes it and
    # shows the saved conversation, badges and disclaimers included.
    page.evaluate(
        """() => {
            const session = JSON.parse(sessionStorage.getItem("nora.session"));
            sessionStorage.setItem("nora.session", JSON.stringify({ ...session, access: "expired" }));
        }"""
    )
    page.reload()
    sidebar.locator(".conversation-open", has_text="Feeling Well Today").click()
    expect(page.locator(".message-user .bubble")).to_have_text(["Is it normal to feel tired?", "Tell me more"])
    expect(page.locator(".message-ai .bubble")).to_have_text([full, cut.message])
    expect(page.locator(".message-ai").first.locator(".disclaimer")).to_have_text(saved.disclaimer["message"])
    expect(page.locator(".message-ai").last.locator(".badge-status")).to_have_text("Stopped")

    sidebar.get_by_role("button", name="Rename “Feeling Well Today”").click()
    title = sidebar.get_by_label("New title")
    title.fill("Tired in week 10")
    title.press("Enter")
    expect(sidebar.locator(".conversation-title")).to_have_text(["Tired in week 10"])
    expect(page.get_by_role("heading", level=2, name="Tired in week 10")).to_be_visible()
    conversation = orm(lambda: Conversation.objects.get(user__email="ada@example.com"))
    assert conversation.title == "Tired in week 10"

    sidebar.get_by_role("button", name="Delete “Tired in week 10”").click()
    page.get_by_role("dialog", name="Delete this conversation?").get_by_role("button", name="Delete").click()
    expect(sidebar.get_by_text("No conversations yet.")).to_be_visible()
    expect(page.locator(".message")).to_have_count(0)
    assert not orm(Conversation.objects.filter(id=conversation.id).exists)

    # A warning sign: the safety notice and the disclaimer in a red banner above the reply.
    emergency_tokens = ["Please", " call", " your", " maternity", " unit", " now", "."]
    anthropic_server.reply_script(tokens=emergency_tokens)
    message_send(page, "I'm 30 weeks pregnant and bleeding heavily")
    urgent = page.locator(".message-ai").last
    expect(urgent).to_have_attribute("data-status", "complete")
    urgent_id = urgent.get_attribute("data-message-id")
    saved = orm(lambda: Message.objects.get(id=urgent_id))
    assert saved.disclaimer["primary_category"] == "emergency"
    notice, _, answer = saved.message.partition("\n\n")
    assert notice.startswith("This could be an emergency.") and answer == "".join(emergency_tokens)
    banner = urgent.get_by_role("alert")
    expect(banner.locator(".emergency-text")).to_have_text(notice)
    expect(banner.locator(".emergency-disclaimer")).to_have_text(saved.disclaimer["message"])
    expect(banner).to_have_css("border-top-color", "rgb(180, 35, 24)")
    expect(urgent.locator(".bubble")).to_have_text(answer)
    # The notice comes first, above the model's words.
    assert urgent.evaluate("item => item.firstElementChild.classList.contains('emergency-notice')")

    page.get_by_role("button", name="Log out").click()
    form = page.get_by_role("tabpanel", name="Log in")
    form.get_by_label("Email").fill("ada@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    expect(sidebar.locator(".conversation-title")).to_have_count(1)


def test_voice_shows_the_transcript_and_the_reply(page, anthropic_server):
    """Speech from the fake microphone reaches the recogniser; its words and the reply show live."""
    tokens = ["Yes", ",", " feeling", " tired", " is", " normal", "."]
    anthropic_server.reply_script(tokens=tokens, token_interval=0.05)
    register(page, "cai@example.com")

    page.get_by_role("button", name="Start talking").click()
    expect(page.get_by_role("button", name="Stop talking")).to_have_attribute("aria-pressed", "true")
    # Words recognised so far show while the person is still speaking.
    expect(page.locator("#voice-partial")).not_to_be_empty()
    page.get_by_role("button", name="Stop talking").click()

    said = page.locator(".message-user")
    expect(said).to_have_count(1)
    expect(said.locator(".badge-voice")).to_have_text("Voice")
    reply = page.locator(".message-ai").last
    expect(reply).to_have_attribute("data-status", "complete")
    assert reply.locator(".bubble").text_content() == "".join(tokens)
    # The socket's title event names the new conversation.
    expect(page.get_by_role("navigation", name="Conversations").locator(".conversation-title")).to_have_text(
        ["Feeling Well Today"]
    )

    spoken = orm(lambda: Message.objects.get(conversation__user__email="cai@example.com", sender="user"))
    assert spoken.source == "voice" and spoken.message
    assert said.locator(".bubble").text_content() == spoken.message
    answer = orm(lambda: Message.objects.get(conversation__user__email="cai@example.com", sender="ai"))
    assert (answer.message, answer.status, answer.source) == ("".join(tokens), "complete", "voice")
