"""The web chat page end to end: Debian's chromium through Playwright against the real server on loopback."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_PAIRS, write_jsonl
from whyrec.config import Settings
from whyrec.factory import make_service
from whyrec.llm.base import ChatMessage, JsonSchema
from whyrec.llm.fake import FakeLLM
from whyrec.retrieval import HashingEmbedder, build_index
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

# Reviews of item "A" that would run script if the page ever parsed evidence as HTML (the JSONL catalogue format
# keeps review text as written), and two from tests/data/hostile_reviews.jsonl: tags with alert(1), and entities
# that must stay entities (decoded once more, they would be a <script>).
_CORPUS = {
    row["id"]: row["text"]
    for row in map(json.loads, (Path(__file__).parent / "data" / "hostile_reviews.jsonl").read_text().splitlines())
}
HOSTILE_REVIEWS = [
    'Lovely tin <img src=x onerror="window.__pwned=1"> my niece adored it.',
    "Great card <script>window.__pwned=1</script> would buy again.",
    'See <a href="javascript:window.__pwned=1">this deal</a> for more.',
    "Bold claim &lt;b&gt;not bold&lt;/b&gt; here.",
    _CORPUS["html-tags"],
    _CORPUS["escaped-script"],
]
HOSTILE_CLAIM = '<img src=x onerror="window.__pwned=1"> It is free.'  # the model's own markup; the checker rejects it
_REVIEW_LINE = re.compile(r'^(e\d+) \(reviewer[^)]*\): "(.*)"$')


@pytest.fixture(scope="module")
def site(fake_service: Service) -> Iterator[str]:
    with BackgroundServer(create_app(fake_service, rate_limit=0)) as url:
        yield url


def quote_every_review(messages: Sequence[ChatMessage], schema: JsonSchema) -> str:
    """A model reply quoting each review in the prompt word for word (one claim each), plus one claim of markup."""
    lines = messages[-1]["content"].splitlines()
    claims = [{"cites": [m[1]], "text": f'A reviewer wrote: "{m[2]}"'} for m in map(_REVIEW_LINE.match, lines) if m]
    return json.dumps({"claims": [*claims, {"cites": ["e1"], "text": HOSTILE_CLAIM}]})


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page over a catalogue of one item whose reviews are markup, with hashing embeddings (no model loads)."""
    root = tmp_path_factory.mktemp("hostile-web")
    products = [{"item_id": "A", "title": "Alpha Gift Card", "price": 25.0}, {"item_id": "B", "title": "Beta Card"}]
    write_jsonl(root / "cat" / "products.jsonl", products)
    reviews = [
        {"review_id": f"r{n}", "item_id": "A", "user_id": f"reviewer{n}", "rating": 5, "text": text}
        for n, text in enumerate(HOSTILE_REVIEWS)
    ]
    write_jsonl(root / "cat" / "reviews.jsonl", reviews)
    write_jsonl(root / "cat" / "interactions.jsonl", [{"user_id": "shopper", "item_id": "B", "rating": 4}])
    build_index(root / "cat", root / "idx", HashingEmbedder())
    settings = Settings(index=root / "idx", home=root / "home", embedder="hashing", k=16)
    llm = FakeLLM([quote_every_review] * 4)  # one question: a draft and the re-ask about the rejected claim
    service = make_service(settings, llm=llm, embedder=HashingEmbedder())
    with BackgroundServer(create_app(service, rate_limit=0)) as url:
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


def test_markup_in_reviews_is_shown_as_text_never_run(page: Any, hostile_site: str) -> None:
    """Reviews holding <img onerror>, <script>, javascript: links and entities reach the answer, the evidence panel
    and the sources list as literal text: no element is made from them, nothing runs, nothing is fetched."""
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # A CSP violation would mean markup was parsed and only the policy stopped it: record any.
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));"
    )
    markup = ":is(img, script, iframe, a, [onerror], [src], [href])"
    page.goto(hostile_site)
    choose_pair(page, "shopper", "A")
    answer = ask(page, "Why was this recommended to me?")

    (explanation,) = answer["explanations"]
    units = {unit["id"]: unit["text"] for unit in explanation["evidence"]}
    cited = [units[claim["cites"][0]] for claim in explanation["claims"]]
    # each hostile review is quoted: a claim, a marker, a panel (beside whyrec's own stated count of their stars)
    quoted = [units[claim["cites"][0]] for claim in explanation["claims"] if ":rev:" in claim["cites"][0]]
    assert sorted(quoted) == sorted(HOSTILE_REVIEWS)
    expect(page.locator("#log .answer .claim")).to_have_count(len(cited))
    log_text = page.locator("#log").text_content()
    for review in HOSTILE_REVIEWS:
        assert f'A reviewer wrote: "{review}"' in log_text
    assert HOSTILE_CLAIM in page.locator("#log .rejected").text_content()  # the rejected claim, struck through

    panel = page.locator("#evidence")
    markers = page.locator("#log .answer .claim .cite")
    expect(markers).to_have_count(len(cited))
    for n, text in enumerate(cited):
        markers.nth(n).click()
        expect(panel.locator("h2")).to_have_text(f"Evidence [{n + 1}]")
        assert panel.locator(".unit-text").text_content() == text
        expect(panel.locator(".unit-text > :not(mark)")).to_have_count(0)  # the checker's span is the only element
        expect(panel.locator(markup)).to_have_count(0)

    page.get_by_label("Your question").fill("Show sources")
    page.get_by_label("Your question").press("Enter")
    sources = page.locator("#log .sources li span.block")
    expect(sources).to_have_count(len(cited), timeout=WAIT_MS)
    assert sources.all_text_contents() == cited  # source n is the answer's [n]

    assert page.evaluate("typeof window.__pwned") == "undefined"
    expect(page.locator(f"#log {markup}")).to_have_count(0)
    expect(page.locator("script")).to_have_count(1)  # the page's own app.js
    expect(page.locator("a[href^='javascript:' i], [onerror]")).to_have_count(0)
    assert dialogs == []
    assert page.evaluate("window.__violations") == []
    strays = [url for url in requests if not url.startswith(("data:", hostile_site)) or url.endswith("/x")]
    assert strays == []  # no <img src=x>, no <iframe src=https://evil.example>, no fetch to it
