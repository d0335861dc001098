"""The bad-input matrix: every entry point through every kind of bad input.

Entry points: the loaders behind `whyrec index`, `explain` (and the index it opens), `audit`, `chat`, `batch`,
`serve` and the HTTP API, and model loading. Inputs: malformed, truncated, non-UTF-8, 10 MB and too deeply nested
lines; missing and mistyped fields; duplicate and unknown ids; an empty catalogue; an index that no longer matches
its catalogue or its own files; damaged FAISS and SQLite files; a model file whose sha256 is not the registry's; a
model that answers garbage or nothing. Each case must end in a clear one-line message and a non-zero exit (or a JSON
error from the API), never a traceback, and leave what was written before as it was. The table of what each case
answered is printed at the end of the test run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import DEMO, DEMO_PAIRS, MATRIX
from whyrec.cli import app
from whyrec.config import Settings
from whyrec.factory import make_explainer, make_service
from whyrec.llm import REGISTRY, ModelSpec
from whyrec.llm.fake import FakeLLM
from whyrec.retrieval import HashingEmbedder, build_index
from whyrec.retrieval.index import MANIFEST_FILE, STORE_FILE, VECTORS_FILE
from whyrec.service.app import create_app

runner = CliRunner()
USER, ITEM = DEMO_PAIRS[0]
REVIEWS, PRODUCTS = "Gift_Cards_5.jsonl", "meta_Gift_Cards.jsonl"
TEN_MB = 10_000_000
Record = Callable[[str, str, str], None]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Record:
    """Add a row (entry point, input, what whyrec answered) to the table printed at the end of the run."""

    def add(entry: str, case: str, answer: str) -> None:
        request.config.stash[MATRIX].append((entry, case, re.sub(r"(?<![\w.])/\S*/", "", answer)))  # file names only

    return add


@dataclass(frozen=True)
class Answer:
    code: int
    out: str
    err: str

    @property
    def last(self) -> str:
        return self.err.strip().splitlines()[-1] if self.err.strip() else ""


def cli(*args: str, stdin: bytes | None = None) -> Answer:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), f"escaped: {result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr
    return Answer(result.exit_code, result.stdout, result.stderr)


def refused(answer: Answer, *expect: str, code: int = 2) -> str:
    """A non-zero exit whose last stderr line is one `error:` line saying what the case expects."""
    assert answer.code == code, (answer.code, answer.err)
    assert answer.last.startswith("error: "), answer.err
    for text in expect:
        assert text in answer.last, answer.last
    return f"exit {answer.code}: {answer.last.removeprefix('error: ')}"


def digest(path: Path) -> str:
    """sha256 over a file or every file of a directory, names included."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    sha = hashlib.sha256()
    for file in files:
        sha.update(str(file.relative_to(path) if path.is_dir() else file.name).encode() + file.read_bytes())
    return sha.hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the demo catalogue and its index (hashing embedder: fast, no model)."""
    root = tmp_path_factory.mktemp("matrix")
    catalogue = root / "catalogue"
    shutil.copytree(DEMO, catalogue)
    build_index(catalogue, root / "index", HashingEmbedder())
    return catalogue, root / "index"


@pytest.fixture
def catalogue(built: tuple[Path, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(built[0], tmp_path / "catalogue"))


@pytest.fixture
def index(built: tuple[Path, Path], catalogue: Path, tmp_path: Path) -> Path:
    """This test's own copy of the index, of its own copy of the catalogue."""
    path = Path(shutil.copytree(built[1], tmp_path / "index"))
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    manifest["catalogue_root"] = str(catalogue)
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    return path


@pytest.fixture(autouse=True)
def fast_parts(monkeypatch: pytest.MonkeyPatch, built: tuple[Path, Path]) -> None:
    """The hashing embedder and the extractive composer unless a case says otherwise; the shared index by default."""
    monkeypatch.setenv("WHYREC_EMBEDDER", "hashing")
    monkeypatch.setenv("WHYREC_COMPOSER", "extractive")
    monkeypatch.setenv("WHYREC_INDEX", str(built[1]))


# Lines that are wrong whatever file they are in; `{item}` is replaced by a product id of the catalogue.
BAD_LINES: dict[str, tuple[bytes, str]] = {
    "malformed JSON": (b'{"asin": "{item}", "overall": 5.0,,}\n', "malformed JSON"),
    "truncated line (cut, no newline)": (b'{"asin": "{item}", "reviewerID": "A1", "reviewTe', "malformed JSON"),
    "non-UTF-8 bytes": (b'{"asin": "{item}", "reviewerID": "A1", "reviewText": "caf\xe9"}\n', "not valid UTF-8"),
    "10 MB line": (b'{"reviewText": "' + b"a" * TEN_MB + b'"}\n', "line of 10.0 MB, longer than whyrec reads"),
    "JSON nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    "a JSON array, not an object": (b'["{item}", 5]\n', "expected a JSON object"),
    "a number of 5,000 digits": (b'{"asin": "{item}", "overall": ' + b"9" * 5000 + b"}\n", "too many digits"),
}
# Review lines whose fields are wrong: (line, the field the message must name).
BAD_REVIEWS: dict[str, tuple[dict[str, object], str]] = {
    "missing field (no asin)": ({"reviewerID": "A1", "overall": 5.0, "reviewText": "ok"}, "asin"),
    "mistyped field (overall: 'five')": ({"reviewerID": "A1", "asin": "{item}", "overall": "five"}, "overall"),
    "unknown id (review of no product)": ({"reviewerID": "A1", "asin": "B0NOSUCH00", "overall": 5.0}, "B0NOSUCH00"),
}


def append(path: Path, line: bytes, item: str) -> int:
    """Append `line` to `path`; return its line number."""
    data = path.read_bytes()
    path.write_bytes(data + line.replace(b"{item}", item.encode()))
    return data.count(b"\n") + 1


@pytest.mark.parametrize("case", [*BAD_LINES, *BAD_REVIEWS, "duplicate id (a product again, other data)"])
def test_index_strict_names_file_line_and_field_and_keeps_the_index(
    case: str, catalogue: Path, index: Path, record: Record
) -> None:
    before = digest(index)
    if case in BAD_LINES:
        line, expect = BAD_LINES[case]
        at = append(catalogue / REVIEWS, line, ITEM)
        where = [f"{REVIEWS}:{at}: ", expect]
    elif case in BAD_REVIEWS:
        row, field = BAD_REVIEWS[case]
        at = append(catalogue / REVIEWS, json.dumps(row).encode() + b"\n", ITEM)
        where = [f"{REVIEWS}:{at}: ", field]
    else:
        first = json.loads((catalogue / PRODUCTS).read_text().splitlines()[0])
        at = append(catalogue / PRODUCTS, json.dumps({**first, "price": "$1.00"}).encode() + b"\n", ITEM)
        where = [f"{PRODUCTS}:{at}: ", f"item {first['asin']!r} again, with other data than at {PRODUCTS}:1"]
    answer = cli("index", str(catalogue), "--out", str(index), "--strict")
    record("index --strict", case, refused(answer, *where))
    assert digest(index) == before  # byte for byte: nothing of the earlier index was touched


def test_index_by_default_skips_and_counts_every_bad_line_naming_the_first(
    catalogue: Path, tmp_path: Path, record: Record
) -> None:
    lines = [line for line, _ in BAD_LINES.values() if line.endswith(b"\n")]  # a truncated line is only ever last
    lines += [json.dumps(row).encode() + b"\n" for row, _ in BAD_REVIEWS.values()]
    first = append(catalogue / REVIEWS, lines[0], ITEM)
    for line in lines[1:]:
        append(catalogue / REVIEWS, line, ITEM)
    answer = cli("index", str(catalogue), "--out", str(tmp_path / "index"))
    assert answer.code == 0, answer.err
    skipped = next(line for line in answer.err.splitlines() if line.startswith("skipped"))
    bad = len(lines) - 1  # the review of no product is noted, not skipped
    assert skipped.startswith(f"skipped {bad} bad lines (first: {catalogue / REVIEWS}:{first}: malformed JSON")
    assert "1 reviews for unknown items skipped" in answer.err
    said = f"exit 0: skipped {bad} bad lines, counted, the first named by file:line; the unknown item noted"
    record("index", "all of the above at once, without --strict", said)


CSV_ROWS: dict[str, tuple[bytes, str]] = {
    "CSV cell of 200 KB": (
        b"r2,X1,u2,5," + b"a" * 200_000 + b"\n",
        "unreadable CSV row (field larger than field limit",
    ),
    "CSV non-UTF-8 bytes": (b"r2,X1,u2,5,caf\xe9\n", "not valid UTF-8"),
    "CSV row with more cells than columns": (b"r2,X1,u2,5,ok,extra\n", "more cells than header columns"),
    "CSV mistyped field (rating: 'five')": (b"r2,X1,u2,five,ok\n", "field 'rating'"),
}


@pytest.mark.parametrize("case", CSV_ROWS)
def test_index_strict_on_csv_names_file_and_line(case: str, tmp_path: Path, record: Record) -> None:
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    (catalogue / "products.csv").write_text("item_id,title,price\nX1,Tea Card,$15.00\n")
    row, expect = CSV_ROWS[case]
    (catalogue / "reviews.csv").write_bytes(b"review_id,item_id,user_id,rating,text\nr1,X1,u1,5,Nice tea.\n" + row)
    answer = cli("index", str(catalogue), "--out", str(tmp_path / "index"), "--strict")
    record("index --strict", case, refused(answer, "reviews.csv:3: ", expect))
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("case", ["empty catalogue", "no such directory", "--out is a folder of one's own files"])
def test_index_refuses_what_it_cannot_build_and_touches_nothing(case: str, tmp_path: Path, record: Record) -> None:
    source, out = tmp_path / "catalogue", tmp_path / "out"
    if case == "empty catalogue":
        source.mkdir()
        (source / "products.jsonl").write_text("")
        expect = "empty catalogue: no product records found"
    elif case == "no such directory":
        expect = "no such file or directory"
    else:
        source = DEMO
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        expect = "is not a whyrec index; refusing to overwrite it"
    before = digest(out) if out.exists() else None
    record("index", case, refused(cli("index", str(source), "--out", str(out)), expect))
    assert (digest(out) if out.exists() else None) == before


def _manifest(index: Path, **changes: object) -> None:
    path = index / MANIFEST_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _overwrite_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


DAMAGE: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "no index at the path": (lambda index, _: shutil.rmtree(index), "no whyrec index at"),
    "manifest not JSON": (lambda index, _: (index / MANIFEST_FILE).write_text("{"), "unreadable manifest"),
    "manifest of an older format": (lambda index, _: _manifest(index, format_version=1), "index format 1"),
    "index of another embedder": (lambda index, _: _manifest(index, embedder="other-model"), "built with embedder"),
    "stale: catalogue changed since": (
        lambda _, catalogue: append(catalogue / REVIEWS, b"\n", ITEM) and None,
        f"older than its catalogue ({REVIEWS} changed since it was built)",
    ),
    "stale: catalogue file gone": (
        lambda _, catalogue: (catalogue / PRODUCTS).unlink(),
        f"older than its catalogue ({PRODUCTS} is gone",
    ),
    "stale: manifest counts other units": (lambda index, _: _manifest(index, count=7), "disagree on the unit count"),
    "vectors file garbage": (
        lambda index, _: (index / VECTORS_FILE).write_bytes(b"not vectors" * 100),
        "not a readable vectors file (no .npy header)",
    ),
    "vectors file truncated": (
        lambda index, _: (index / VECTORS_FILE).write_bytes((index / VECTORS_FILE).read_bytes()[:5000]),
        "its size does not match its header",
    ),
    "SQLite file garbage": (
        lambda index, _: (index / STORE_FILE).write_bytes(b"not sqlite" * 1000),
        "not a readable whyrec store",
    ),
    "SQLite file truncated": (
        lambda index, _: (index / STORE_FILE).write_bytes((index / STORE_FILE).read_bytes()[:8192]),
        "store.sqlite: ",
    ),
    "SQLite pages overwritten mid-file": (lambda index, _: _overwrite_middle(index / STORE_FILE), "store.sqlite: "),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_explain_on_a_damaged_or_stale_index_says_re_index(
    case: str, index: Path, catalogue: Path, record: Record
) -> None:
    damage, expect = DAMAGE[case]
    damage(index, catalogue)
    answer = cli("explain", "--user", USER, "--item", ITEM, "--index", str(index))
    expected = ["whyrec index"] if case != "no index at the path" else []
    record("explain", case, refused(answer, expect, *expected))


@pytest.mark.parametrize(
    ("case", "args", "expect"),
    [
        ("unknown user", ["--user", "nobody", "--item", ITEM], "unknown user 'nobody'"),
        ("unknown item", ["--user", USER, "--item", "B0NOSUCH00"], "unknown item 'B0NOSUCH00'"),
        ("mistyped option (--k 0)", ["--user", USER, "--item", ITEM, "--k", "0"], "Invalid value for '--k'"),
    ],
)
def test_explain_refuses_unknown_ids_and_bad_options(case: str, args: list[str], expect: str, record: Record) -> None:
    answer = cli("explain", *args)
    if case.startswith("mistyped"):  # Click's own usage error: exit 2, a boxed message on stderr
        assert answer.code == 2 and expect in answer.err
        record("explain", case, f"exit 2: {expect} (usage error)")
        return
    record("explain", case, refused(answer, expect))


REQUEST_LINES: dict[str, tuple[bytes, str]] = {
    **{
        name: BAD_LINES[name]
        for name in ("non-UTF-8 bytes", "10 MB line", "JSON nested 100,000 deep", "a number of 5,000 digits")
    },
    "malformed JSON": (b'{"user_id": "U", "reason": ,}\n', "not JSON"),
    "truncated line (cut, no newline)": (b'{"user_id": "U", "item_id": "{item}", "rea', "not JSON"),
    "missing field (no reason)": (b'{"user_id": "{user}", "item_id": "{item}"}\n', "field 'reason': Field required"),
    "mistyped field (reason: 5)": (b'{"user_id": "{user}", "item_id": "{item}", "reason": 5}\n', "field 'reason'"),
    "a reason of only spaces": (b'{"user_id": "{user}", "item_id": "{item}", "reason": " \\t"}\n', "empty"),
    "unknown id (user)": (b'{"user_id": "nobody", "item_id": "{item}", "reason": "Nice."}\n', "unknown user"),
}


@pytest.mark.parametrize("case", REQUEST_LINES)
def test_audit_file_stops_at_the_bad_line_after_auditing_the_lines_before(
    case: str, tmp_path: Path, record: Record
) -> None:
    line, expect = REQUEST_LINES[case]
    good = json.dumps({"user_id": USER, "item_id": ITEM, "reason": "It is a gift card."}) + "\n"
    reasons = tmp_path / "reasons.jsonl"
    reasons.write_bytes(good.encode() + line.replace(b"{item}", ITEM.encode()).replace(b"{user}", USER.encode()))
    answer = cli("audit", "--file", str(reasons), "--json")
    where = [f"{reasons}:2: "] if not case.startswith("unknown") else []
    record("audit --file", case, refused(answer, *where, expect))
    assert [json.loads(x)["item_id"] for x in answer.out.splitlines()] == [ITEM]  # line 1 was audited and printed


@pytest.mark.parametrize(
    ("case", "stdin", "told", "answers"),
    [
        ("10 MB message", b"a" * TEN_MB + b"\n", "the message is 10,000,000 characters; the limit is 2,000", 1),
        ("non-UTF-8 bytes in a message", b"is it good for caf\xe9s?\n", "", 2),  # read with U+FFFD, answered
        ("unknown item in /item", b"/item B0NOSUCH00\n", "unknown item 'B0NOSUCH00'", 1),
    ],
)
def test_chat_tells_what_was_wrong_and_the_session_goes_on(
    case: str, stdin: bytes, told: str, answers: int, record: Record
) -> None:
    answer = cli("chat", "--user", USER, "--item", ITEM, stdin=stdin + b"what do people say?\n")
    assert answer.code == 0 and told in answer.out + answer.err
    assert answer.out.count("checked: ") == answers  # the next message (and a readable one) answered
    said = f"told ({told[:45]})" if told else "read with U+FFFD for the bad byte and answered"
    record("chat", case, f"{said}; the session goes on; exit 0 at end of input")


@pytest.mark.parametrize(
    ("case", "args", "expect"),
    [
        ("unknown user", ["--user", "nobody", "--item", ITEM], "unknown user 'nobody'"),
        ("unknown item", ["--user", USER, "--item", "B0NOSUCH00"], "unknown item 'B0NOSUCH00'"),
    ],
)
def test_chat_refuses_unknown_ids_before_starting(case: str, args: list[str], expect: str, record: Record) -> None:
    record("chat", case, refused(cli("chat", *args, stdin=b""), expect))


PAIR_ROWS: dict[str, tuple[bytes, str]] = {
    "missing field (no item_id cell)": (b"{user}\n", "field 'item_id': missing"),
    "unknown id (user)": (b"nobody,{item}\n", "unknown user 'nobody'"),
    "non-UTF-8 bytes": (b"caf\xe9,{item}\n", ":3: not UTF-8"),
    "10 MB line": (b"{user}," + b"a" * TEN_MB + b"\n", ":3: not CSV: field larger than field limit"),
}


@pytest.mark.parametrize("case", PAIR_ROWS)
def test_batch_with_on_bad_row_fail_exits_2_and_keeps_the_results_so_far(
    case: str, tmp_path: Path, record: Record
) -> None:
    out = tmp_path / "results.jsonl"
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"user_id,item_id\n{USER},{ITEM}\n")
    assert cli("batch", str(pairs), "--out", str(out)).code == 0
    before = out.read_bytes()
    row, expect = PAIR_ROWS[case]
    append(pairs, row.replace(b"{user}", DEMO_PAIRS[1][0].encode()), DEMO_PAIRS[1][1])
    answer = cli("batch", str(pairs), "--out", str(out), "--on-bad-row", "fail")
    record("batch", case, refused(answer, str(pairs), expect))
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("case", "text", "expect"),
    [
        ("empty pairs file", "", "the header must name user_id and item_id"),
        ("header without item_id", "user_id,score\n", "the header must name user_id and item_id (missing item_id)"),
    ],
)
def test_batch_refuses_a_pairs_file_without_pairs(
    case: str, text: str, expect: str, tmp_path: Path, record: Record
) -> None:
    (tmp_path / "pairs.csv").write_text(text)
    answer = cli("batch", str(tmp_path / "pairs.csv"), "--out", str(tmp_path / "out.jsonl"))
    record("batch", case, refused(answer, expect))
    assert not (tmp_path / "out.jsonl").exists()


def test_batch_counts_duplicate_pairs_and_explains_each_once(tmp_path: Path, record: Record) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"user_id,item_id\n{USER},{ITEM}\n{USER},{ITEM}\n")
    answer = cli("batch", str(pairs), "--out", str(tmp_path / "out.jsonl"))
    assert answer.code == 0 and "Wrote 1 rows" in answer.out and "1 duplicate pairs" in answer.out
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
    record("batch", "duplicate ids (a pair twice)", "exit 0: explained once, '1 duplicate pairs' reported")


def test_serve_refuses_to_start_on_a_damaged_index(index: Path, record: Record) -> None:
    (index / VECTORS_FILE).write_bytes(b"junk")
    answer = cli("serve", "--index", str(index), "--port", "0")
    record("serve", "vectors file garbage", refused(answer, "not a readable vectors file", "whyrec index"))


@pytest.fixture
def api(built: tuple[Path, Path], tmp_path: Path) -> Callable[..., TestClient]:
    def client(llm: FakeLLM | None = None, fallback: bool = True) -> TestClient:
        settings = Settings(index=built[1], home=tmp_path, embedder="hashing", composer="llm", fallback=fallback)
        service = make_service(settings, llm=llm or FakeLLM(), embedder=HashingEmbedder())
        return TestClient(create_app(service, rate_limit=0), raise_server_exceptions=False)

    return client


def _json_error(response: object, status: int, *expect: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    text = response.text  # type: ignore[attr-defined]
    assert "Traceback" not in text and "/tmp" not in text and ".py" not in text
    for part in expect:
        assert part in body["error"]["message"], body
    return f"{status} {body['error']['code']}: {body['error']['message'][:70]}"


API_BODIES: dict[str, tuple[bytes, int, str]] = {
    "malformed JSON": (b'{"user_id": "U",,}', 422, "body: not JSON (Expecting property name"),
    "truncated body": (b'{"user_id": "' + USER.encode() + b'", "item_id": "', 422, "body: not JSON (Unterminated"),
    "non-UTF-8 bytes": (b'{"user_id": "caf\xe9", "item_id": "' + ITEM.encode() + b'"}', 400, "error parsing the body"),
    "10 MB body": (b'{"question": "' + b"a" * TEN_MB + b'"}', 413, "over 65536 bytes"),
    "JSON nested 30,000 deep": (b"[" * 30_000 + b"]" * 30_000, 400, "error parsing the body"),
    "a number of 5,000 digits": (
        b'{"item_id": "' + ITEM.encode() + b'", "k": ' + b"9" * 5000 + b"}",
        400,
        "error parsing",
    ),
    "empty body": (b"", 422, ""),
    "missing field (no item_id)": (json.dumps({"user_id": USER}).encode(), 422, "body.item_id: Field required"),
    "mistyped field (k: 'many')": (json.dumps({"item_id": ITEM, "k": "many"}).encode(), 422, "body.k"),
    "unknown id (user)": (json.dumps({"user_id": "nobody", "item_id": ITEM}).encode(), 404, "unknown user 'nobody'"),
    "unknown id (item)": (json.dumps({"item_id": "B0NOSUCH00"}).encode(), 404, "unknown item 'B0NOSUCH00'"),
}


@pytest.mark.parametrize("case", API_BODIES)
def test_api_answers_bad_bodies_with_a_json_error(case: str, api: Callable[..., TestClient], record: Record) -> None:
    body, status, expect = API_BODIES[case]
    with api() as client:
        response = client.post("/v1/explain", content=body, headers={"Content-Type": "application/json"})
        record("API /v1/explain", case, _json_error(response, status, expect))
        assert client.post("/v1/explain", json={"user_id": USER, "item_id": ITEM}).status_code == 200


OTHER_ENDPOINTS: dict[str, dict[str, object]] = {
    "/v1/audit": {"user_id": USER, "item_id": ITEM, "reason": "It is a gift card."},
    "/v1/chat": {"user_id": USER, "item_id": ITEM, "message": "why?"},
    "/v1/feedback": {"user_id": USER, "item_id": ITEM, "rating": "up"},
}


@pytest.mark.parametrize("endpoint", OTHER_ENDPOINTS)
@pytest.mark.parametrize("case", ["malformed JSON", "missing field (no item_id)", "unknown id (user)", "10 MB body"])
def test_every_api_endpoint_answers_bad_bodies_with_a_json_error(
    endpoint: str, case: str, api: Callable[..., TestClient], record: Record
) -> None:
    good = OTHER_ENDPOINTS[endpoint]
    body, status, expect = {
        "malformed JSON": (b'{"user_id": "U",,}', 422, "body: not JSON"),
        "missing field (no item_id)": (
            json.dumps({k: v for k, v in good.items() if k != "item_id"}).encode(),
            422,
            "item_id",
        ),
        "unknown id (user)": (json.dumps({**good, "user_id": "nobody"}).encode(), 404, "unknown user 'nobody'"),
        "10 MB body": (json.dumps({**good, "pad": "a" * TEN_MB}).encode(), 413, "over 65536 bytes"),
    }[case]
    with api() as client:
        response = client.post(endpoint, content=body, headers={"Content-Type": "application/json"})
        record(f"API {endpoint}", case, _json_error(response, status, expect))
        assert client.post(endpoint, json=good).status_code in (200, 201)


def test_api_on_an_index_damaged_while_serving_is_503_without_the_path(
    index: Path, tmp_path: Path, record: Record
) -> None:
    settings = Settings(index=index, home=tmp_path / "home", embedder="hashing", composer="extractive")
    service = make_service(settings, embedder=HashingEmbedder())
    with TestClient(create_app(service, rate_limit=0), raise_server_exceptions=False) as client:
        assert client.post("/v1/explain", json={"user_id": USER, "item_id": ITEM}).status_code == 200
        (index / STORE_FILE).write_bytes(b"not sqlite" * 1000)
        response = client.post("/v1/explain", json={"user_id": USER, "item_id": DEMO_PAIRS[1][1]})
        record("API /v1/explain", "SQLite store damaged while serving", _json_error(response, 503, "damaged"))
        assert "store.sqlite" not in response.text


LLM_REPLIES: dict[str, list[str | Exception]] = {
    "LLM answers garbage (twice)": ["Sure! Here is why: it is great.", "{{{{"],
    "LLM answers nothing (twice)": ["", ""],
    "LLM answers JSON of the wrong shape": ['{"claims": "all of them"}', '{"reason": "great"}'],
}


@pytest.mark.parametrize("case", LLM_REPLIES)
def test_a_model_that_answers_garbage_falls_back_or_is_a_503(
    case: str, api: Callable[..., TestClient], record: Record
) -> None:
    body = {"user_id": USER, "item_id": ITEM}
    with api(FakeLLM(list(LLM_REPLIES[case]))) as client:
        explanation = client.post("/v1/explain", json=body).json()
    assert explanation["manifest"]["composer"] == "extractive" and "no usable answer twice" in explanation["fallback"]
    assert explanation["claims"] and explanation["status"] in ("ok", "partial")
    with api(FakeLLM(list(LLM_REPLIES[case])), fallback=False) as client:
        refusal = _json_error(client.post("/v1/explain", json=body), 503, "the model is not available")
    record("API /v1/explain", case, f"200: the extractive reason, `fallback` says why; fallback off: {refusal}")


def test_library_explainer_on_a_model_that_answers_nothing_records_why(
    built: tuple[Path, Path], tmp_path: Path, record: Record
) -> None:
    settings = Settings(index=built[1], home=tmp_path, embedder="hashing", composer="llm")
    explainer = make_explainer(settings, llm=FakeLLM(["", ""]), embedder=HashingEmbedder())
    explanation = explainer.explain(USER, ITEM)
    assert explanation.fallback is not None and "no usable answer twice" in explanation.fallback
    record("explain (library)", "LLM answers nothing (twice)", f"fallback: {explanation.fallback[:70]}")


@pytest.fixture
def tampered(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The packaged tiny model, registered with a sha256 its file does not have."""
    spec = REGISTRY["smollm2-135m"]
    monkeypatch.setitem(
        REGISTRY, "smollm2-tampered", ModelSpec(**{**spec.__dict__, "name": "smollm2-tampered", "sha256": "0" * 64})
    )
    yield "smollm2-tampered"


@pytest.mark.parametrize(
    "case", ["sha256 mismatch", "not a GGUF file", "truncated GGUF", "no such file", "unknown model name"]
)
def test_model_loading_errors_name_the_file_and_what_to_do(
    case: str, tampered: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: Record
) -> None:
    monkeypatch.setenv("WHYREC_FALLBACK", "false")
    model, expect = {
        "sha256 mismatch": (tampered, "corrupt model file for smollm2-tampered"),
        "not a GGUF file": (str(tmp_path / "notes.gguf"), "not a GGUF model file"),
        "truncated GGUF": (str(tmp_path / "cut.gguf"), "llama.cpp could not load this model"),
        "no such file": (str(tmp_path / "gone.gguf"), "model file not found"),
        "unknown model name": ("gpt-17", "unknown model 'gpt-17'"),
    }[case]
    (tmp_path / "notes.gguf").write_text("just text")
    (tmp_path / "cut.gguf").write_bytes(REGISTRY["smollm2-135m"].parts[0].locate().read_bytes()[:4096])  # type: ignore[union-attr]
    answer = cli("explain", "--user", USER, "--item", ITEM, "--composer", "llm", "--model", model)
    record("model loading", case, refused(answer, expect))


def test_with_fallback_a_broken_model_still_gives_a_checked_reason_and_says_why(tmp_path: Path, record: Record) -> None:
    (tmp_path / "notes.gguf").write_text("just text")
    answer = cli(
        "explain",
        "--user",
        USER,
        "--item",
        ITEM,
        "--composer",
        "llm",
        "--model",
        str(tmp_path / "notes.gguf"),
        "--json",
    )
    assert answer.code == 0
    explanation = json.loads(answer.out)
    assert explanation["manifest"]["composer"] == "extractive" and "not a GGUF model file" in explanation["fallback"]
    record(
        "model loading",
        "not a GGUF file, fallback on (default)",
        "exit 0: the extractive reason; its `fallback` field says why",
    )


def test_feedback_store_that_is_not_a_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: Record
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "feedback.sqlite").write_bytes(b"not sqlite" * 1000)
    monkeypatch.setenv("WHYREC_HOME", str(home))
    answer = cli("feedback", "add", "--user", USER, "--item", ITEM, "--rating", "up")
    record("feedback add", "SQLite file garbage", refused(answer, "feedback.sqlite", "cannot open the feedback store"))
    assert (home / "feedback.sqlite").read_bytes() == b"not sqlite" * 1000
