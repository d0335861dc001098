"""`whyrec batch`: one Explanation per good pair, bad rows by line, resumable after Ctrl-C or kill -9, N workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DEMO_PAIRS, hear_ctrl_c
from whyrec.batch import ResumableOutput
from whyrec.cli import app
from whyrec.errors import CatalogueError
from whyrec.retrieval import KnowledgeIndex
from whyrec.schema import Explanation

WHYREC = Path(sys.executable).parent / "whyrec"
runner = CliRunner()
Key = tuple[str, str]


@pytest.fixture(autouse=True)
def extractive(monkeypatch: pytest.MonkeyPatch, demo_index_dir: Path) -> None:
    """No LLM: the extractive composer is fast and deterministic. The index is the session's demo index."""
    monkeypatch.setenv("WHYREC_COMPOSER", "extractive")
    monkeypatch.setenv("WHYREC_INDEX", str(demo_index_dir))


@pytest.fixture(scope="module")
def many_pairs(demo_index: KnowledgeIndex) -> list[Key]:
    """The demo pairs, then other users of the demo catalogue with its items: enough for a run of a few seconds."""
    users, items = demo_index.store.user_ids(), demo_index.store.item_ids()
    extra = [(user, items[n * 7 % len(items)]) for n, user in enumerate(users * 3)]
    return list(dict.fromkeys([*DEMO_PAIRS, *extra]))[:1200]


def pairs_csv(path: Path, rows: list[tuple[str, ...]], header: str = "user_id,item_id,score") -> Path:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def batch(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["batch", *args])
    return result.exit_code, result.stdout, result.stderr


def records(path: Path) -> list[Explanation]:
    """Every line an Explanation (its computed fields, such as evidence speakers, are ignored on the way back in)."""
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "the output ends in a partial line"
    return [Explanation.model_validate_json(line) for line in text.splitlines()]


def keys(path: Path) -> list[Key]:
    return [(r.user_id, r.item_id) for r in records(path)]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_applies_what_each_user_told_whyrec_in_feedback(tmp_path: Path, workers: str) -> None:
    from whyrec.config import Settings
    from whyrec.feedback import FeedbackStore
    from whyrec.schema import Preferences

    (told, item), (other, other_item) = DEMO_PAIRS[:2]
    FeedbackStore(Settings().feedback_db).set_preferences(told, Preferences(avoid=["price"]))
    pairs = pairs_csv(tmp_path / "pairs.csv", [(told, item, "1"), (other, other_item, "1")])
    out = tmp_path / "results.jsonl"
    code, _, stderr = batch(str(pairs), "--out", str(out), "--workers", workers)
    assert code == 0, stderr
    by_user = {r.user_id: r for r in records(out)}
    assert by_user[told].manifest.preferences == Preferences(avoid=["price"])
    assert all(e.field != "price" and "$" not in e.text for e in by_user[told].evidence)
    assert by_user[other].manifest.preferences is None
    assert any(e.field == "price" for e in by_user[other].evidence)


def test_batch_writes_one_explanation_per_good_pair_and_skips_bad_rows_by_line(tmp_path: Path) -> None:
    good = [(u, i, "0.9") for u, i in DEMO_PAIRS]
    bad = [("nobody", DEMO_PAIRS[0][1], "1"), (DEMO_PAIRS[0][0], "", "1"), (DEMO_PAIRS[1][0],)]
    pairs = pairs_csv(tmp_path / "pairs.csv", [good[0], *bad, *good[1:], good[2]])  # bad on lines 3-5, a repeat
    out = tmp_path / "results.jsonl"
    code, stdout, stderr = batch(str(pairs), "--out", str(out))
    assert code == 0
    assert sorted(keys(out)) == sorted(DEMO_PAIRS)
    assert all(r.status in ("ok", "partial", "abstained") and r.reason for r in records(out))
    assert f"{pairs}:3: unknown user 'nobody'" in stderr
    assert f"{pairs}:4: field 'item_id': empty" in stderr
    assert f"{pairs}:5: field 'item_id': missing" in stderr
    assert f"Wrote {len(DEMO_PAIRS)} rows" in stdout and "3 bad rows" in stdout and "1 duplicate pairs" in stdout


def test_on_bad_row_fail_exits_2_at_the_first_bad_row_before_generating(tmp_path: Path) -> None:
    rows = [(u, i) for u, i in DEMO_PAIRS]
    pairs = pairs_csv(tmp_path / "pairs.csv", [rows[0], ("nobody", rows[1][1]), *rows[1:]], header="user_id,item_id")
    out = tmp_path / "results.jsonl"
    code, stdout, stderr = batch(str(pairs), "--out", str(out), "--on-bad-row", "fail")
    assert code == 2 and stdout == ""
    assert stderr.strip().count("\n") == 0 and f"{pairs}:3: unknown user 'nobody'" in stderr
    assert not out.exists()  # the pairs are read before the output is opened


def test_second_run_writes_nothing_new_and_reports_the_pairs_as_already_done(tmp_path: Path) -> None:
    pairs = pairs_csv(tmp_path / "pairs.csv", list(DEMO_PAIRS), header="user_id,item_id")
    out = tmp_path / "results.jsonl"
    assert batch(str(pairs), "--out", str(out), "--limit", "2")[0] == 0
    assert len(keys(out)) == 2
    code, stdout, _ = batch(str(pairs), "--out", str(out))
    assert code == 0 and f"Wrote {len(DEMO_PAIRS) - 2} rows" in stdout and "2 skipped (already done)" in stdout
    first = out.read_bytes()
    code, stdout, _ = batch(str(pairs), "--out", str(out))
    assert code == 0 and "Wrote 0 rows" in stdout and f"{len(DEMO_PAIRS)} skipped (already done)" in stdout
    assert out.read_bytes() == first and sorted(keys(out)) == sorted(DEMO_PAIRS)


def start_batch(pairs: Path, out: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(WHYREC), "batch", str(pairs), "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=hear_ctrl_c,
    )


# How long a run may take to reach what a test waits for before the test gives up: a guard against a hang, not a
# measure of speed (a busy 2-core machine starts a whyrec process in well over a minute).
PATIENCE = 600.0


def wait_for_lines(out: Path, process: subprocess.Popen[bytes], lines: int, timeout: float = PATIENCE) -> None:
    """Until `out` holds `lines` complete lines (the event), checked every 10 ms."""
    deadline = time.monotonic() + timeout
    while not (out.exists() and out.read_bytes().count(b"\n") >= lines):
        assert process.poll() is None, "the run ended before it could be stopped: give it more pairs"
        assert time.monotonic() < deadline, f"fewer than {lines} lines after {timeout} s"
        time.sleep(0.01)


def test_kill_9_mid_run_then_rerun_gives_every_pair_exactly_once(tmp_path: Path, many_pairs: list[Key]) -> None:
    pairs = pairs_csv(tmp_path / "pairs.csv", many_pairs, header="user_id,item_id")
    out = tmp_path / "results.jsonl"
    process = start_batch(pairs, out)
    wait_for_lines(out, process, 20)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = out.read_bytes().count(b"\n")
    assert 20 <= killed_at < len(many_pairs)
    with out.open("ab") as torn:  # what a kill in the middle of a write would leave
        torn.write(b'{"user_id": "' + many_pairs[-1][0].encode() + b'", "item_id": "B0')

    code, stdout, stderr = batch(str(pairs), "--out", str(out))
    assert code == 0, stderr
    assert "cut off a partial last line" in stderr
    written = keys(out)
    assert len(written) == len(set(written)) == len(many_pairs) and set(written) == set(many_pairs)
    assert f"{killed_at} skipped (already done)" in stdout


def test_ctrl_c_stops_cleanly_with_exit_130_and_a_rerun_finishes(tmp_path: Path, many_pairs: list[Key]) -> None:
    pairs = pairs_csv(tmp_path / "pairs.csv", many_pairs, header="user_id,item_id")
    out = tmp_path / "results.jsonl"
    process = start_batch(pairs, out)
    wait_for_lines(out, process, 20)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130
    done = len(keys(out))  # only complete lines
    assert f"interrupted: {done} rows written" in stderr.decode() and "run the same command again" in stderr.decode()
    assert batch(str(pairs), "--out", str(out))[0] == 0
    assert sorted(keys(out)) == sorted(many_pairs)


def test_two_workers_write_the_same_explanations_as_one(tmp_path: Path, many_pairs: list[Key]) -> None:
    pairs = pairs_csv(tmp_path / "pairs.csv", many_pairs[:60], header="user_id,item_id")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert batch(str(pairs), "--out", str(one))[0] == 0
    code, stdout, stderr = batch(str(pairs), "--out", str(two), "--workers", "2")
    assert code == 0, stderr
    assert "Wrote 60 rows" in stdout

    def reasons(path: Path) -> dict[Key, str]:
        return {(r.user_id, r.item_id): r.reason for r in records(path)}

    assert len(keys(two)) == 60 and reasons(two) == reasons(one)


@pytest.mark.parametrize("where", ["missing/results.jsonl", "."])
def test_an_output_that_cannot_be_written_exits_2_with_one_line(tmp_path: Path, where: str) -> None:
    pairs = pairs_csv(tmp_path / "pairs.csv", list(DEMO_PAIRS))
    code, stdout, stderr = batch(str(pairs), "--out", str(tmp_path / where))
    assert code == 2 and stdout == ""
    assert stderr.strip().count("\n") == 0 and "cannot write" in stderr and "Traceback" not in stderr


def test_a_missing_pairs_file_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    code, stdout, stderr = batch(str(tmp_path / "nope.csv"), "--out", str(out))
    assert code == 2 and stdout == ""
    assert stderr.strip().count("\n") == 0 and "nope.csv: cannot read" in stderr
    assert not out.exists()


def test_an_output_line_that_is_not_a_record_is_reported_by_line(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text(json.dumps({"user_id": "u", "item_id": "i"}) + "\nhello\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"results.jsonl:2: not an Explanation record"):
        ResumableOutput(out)


def test_a_ctrl_c_that_another_thread_receives_lands_after_the_line_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a process with threads (a Ray driver's), the kernel may hand SIGINT to any thread that does not block it,
    and Python then raises KeyboardInterrupt in the main thread, wherever it is: it must not undo a written line."""
    import threading

    code, _, stderr = batch(str(pairs_csv(tmp_path / "pairs.csv", list(DEMO_PAIRS[:1]))), "--out", str(tmp_path / "a"))
    assert code == 0, stderr
    [explanation] = records(tmp_path / "a")
    go, sent, called_off = threading.Event(), threading.Event(), threading.Event()

    def ctrl_c() -> None:  # started before the write, so this thread does not block the signal
        go.wait()
        if not called_off.is_set():  # the append never reached fsync: no Ctrl-C for the test session itself
            os.kill(os.getpid(), signal.SIGINT)
        sent.set()

    sender = threading.Thread(target=ctrl_c)
    sender.start()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the line is written; the signal arrives before it is on disk
        go.set()
        sent.wait()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    output = ResumableOutput(tmp_path / "b")
    # Ctrl-C heard as Python hears it by default (a suite started as a background job inherits SIGINT ignored)
    heard = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):  # heard, once the line is complete and counted
            output.append(explanation)
    finally:
        signal.signal(signal.SIGINT, heard)
        output.close()
        called_off.set()
        go.set()
        sender.join()
    assert output.appended == 1 and records(tmp_path / "b") == [explanation]


def test_parquet_output_is_written_from_a_journal_that_a_killed_run_resumes(
    tmp_path: Path, many_pairs: list[Key]
) -> None:
    from whyrec.batch.parquet import read_explanations

    pairs = pairs_csv(tmp_path / "pairs.csv", many_pairs[:400], header="user_id,item_id")
    out = tmp_path / "results.parquet"
    journal = tmp_path / "results.parquet.jsonl"
    process = start_batch(pairs, out)
    wait_for_lines(journal, process, 20)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()  # a killed run never leaves a half-written Parquet file

    code, stdout, stderr = batch(str(pairs), "--out", str(out))
    assert code == 0, stderr
    assert "400 rows in the Parquet file" in stdout
    rows = read_explanations(out)
    assert [(r.user_id, r.item_id) for r in rows] == keys(journal)
    assert sorted((r.user_id, r.item_id) for r in rows) == sorted(many_pairs[:400])

    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.column_names[:4] == ["user_id", "item_id", "reason", "status"]
    first = rows[0]
    assert table.column("reason")[0].as_py() == first.reason
    assert table.column("cited_ids")[0].as_py() == [c.cites for c in first.claims]
