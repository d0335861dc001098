"""The web chat page end to end: Debian's chromium through Playwright against the real server on loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_PAIRS
from whyrec.service.app import Service, create_app
from whyrec.service.server import BackgroundServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, ITEM = DEMO_PAIRS[0]
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def site(fake_service: Service) -> Iterator[str]:
    with BackgroundServer(create_app(fake_service, rate_limit=0)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()


def choose_pair(page: Any, user: str, item: str) -> None:
    page.get_by_label("User").select_option(user)
    page.get_by_label("Item").select_option(item)  # waits until the user's items are in (the select is enabled)


def ask(page: Any, message: str) -> dict[str, Any]:
    """Type `message`, press Enter, and return the chat answer the page received (the last event of its stream).

    The stream is passed through a route that keeps a copy: Chromium does not keep the body of a streamed fetch.
    """
    bodies: list[str] = []

    def keep_copy(route: Any) -> None:
        response = route.fetch()
        bodies.append(response.text())
        route.fulfill(response=response)

    page.route("**/v1/chat/stream", keep_copy)
    page.get_by_label("Your question").fill(message)
    page.get_by_label("Your question").press("Enter")
    page.wait_for_function("() => !document.querySelector('#log .pending')", timeout=WAIT_MS)
    page.unroute("**/v1/chat/stream")
    events = [block.split("\n") for block in bodies[-1].strip().split("\n\n")]
    assert [line for line in events[0] if line.startswith("event:")] == ["event: stage"]  # stages come first
    last = dict(line.split(": ", 1) for line in events[-1])
    assert last["event"] == "answer"
    answer: dict[str, Any] = json.loads(last["data"])
    return answer


def test_answer_shows_cited_claims_whose_evidence_opens_with_the_span_marked(
    page: Any, site: str, fake_service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(site)
    choose_pair(page, USER, ITEM)
    answer = ask(page, "Why was this recommended to me?")

    marker = page.locator("#log .answer .cite").first
    expect(marker).to_be_visible(timeout=WAIT_MS)
    marker.click()

    panel = page.locator("#evidence")
    explanation = answer["explanations"][0]
    claim = explanation["claims"][0]
    unit = next(e for e in explanation["evidence"] if e["id"] == claim["cites"][0])
    expect(panel).to_contain_text(unit["text"])
    expect(panel).to_contain_text(unit["id"])
    accepted = [v for v in explanation["verdicts"] if v["label"] == "supported"]
    verdict = next(v for v in accepted if v["claim"]["text"] == claim["text"])
    spans = [s for s in verdict["evidence_spans"] if s["unit_id"] == unit["id"]]
    if spans:
        expect(panel.locator("mark")).to_have_text(unit["text"][spans[0]["start"] : spans[0]["end"]])
    expect(page.locator("#log .claim").first).to_contain_text(f"supported · {verdict['rule']}")

    before = fake_service.feedback.count()
    page.get_by_role("button", name="Helpful", exact=True).first.click()
    expect(page.locator("#log .feedback-status").first).to_contain_text("recorded")
    assert fake_service.feedback.count() == before + 1

    page.screenshot(path=str(tmp_path / "web-chat.png"), full_page=True)
    if os.environ.get("WHYREC_SCREENSHOT"):
        page.screenshot(path=os.environ["WHYREC_SCREENSHOT"], full_page=True)


def test_markup_in_a_message_is_shown_as_text_never_run(page: Any, site: str) -> None:
    from playwright.sync_api import expect

    attack = """<img src=x onerror="document.title='pwned'">"""
    response = page.goto(site)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    title = page.title()

    choose_pair(page, USER, ITEM)
    ask(page, attack)
    expect(page.locator("#log .answer")).to_have_count(1, timeout=WAIT_MS)

    assert page.title() == title
    expect(page.locator("#log .bubble")).to_have_text(attack)
    expect(page.locator("#log img")).to_have_count(0)
