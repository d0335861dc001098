"""`whyrec batch --engine ray`: an actor pool writes what the local engine writes, and a rerun resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DEMO_PAIRS, hear_ctrl_c
from whyrec.batch import InProcessEngine, choose_engine, run_batch
from whyrec.batch.pairs import Pair
from whyrec.batch.ray_engine import RayEngine
from whyrec.cli import app
from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.factory import make_explainer
from whyrec.llm.fake import FakeLLM
from whyrec.retrieval import KnowledgeIndex
from whyrec.schema import Explanation

ray = pytest.importorskip("ray")

Key = tuple[str, str]
WHYREC = Path(sys.executable).parent / "whyrec"


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One Ray for the module (it takes seconds to start on two cores); the engine uses it and leaves it running."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pairs_csv(demo_index: KnowledgeIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 pairs: the demo pairs, then other demo users with demo items."""
    users, items = demo_index.store.user_ids(), demo_index.store.item_ids()
    extra = [(user, items[n * 7 % len(items)]) for n, user in enumerate(users * 3)]
    rows = list(dict.fromkeys([*DEMO_PAIRS, *extra]))[:30]
    assert len(rows) == 30
    path = tmp_path_factory.mktemp("ray-pairs") / "pairs.csv"
    path.write_text("user_id,item_id\n" + "".join(f"{u},{i}\n" for u, i in rows), encoding="utf-8")
    return path


@pytest.fixture
def settings(demo_index_dir: Path, tmp_path: Path) -> Settings:
    return Settings(index=demo_index_dir, home=tmp_path / "home", composer="extractive", llm_threads=2, threads=2)


def reasons(path: Path) -> dict[Key, str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the output ends in a partial line"
    rows = [Explanation.model_validate_json(line) for line in text.splitlines()]
    by_key = {(r.user_id, r.item_id): r.reason for r in rows}
    assert len(by_key) == len(rows), "a pair was written twice"
    return by_key


def test_two_ray_actors_write_the_same_rows_as_the_local_engine(
    pairs_csv: Path, settings: Settings, tmp_path: Path
) -> None:
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(pairs_csv, local, settings)
    summary = run_batch(pairs_csv, on_ray, settings, engine=choose_engine("ray", settings, workers=2))
    assert summary.written == 30 and not summary.interrupted
    assert reasons(on_ray) == reasons(local)
    assert ray.is_initialized(), "an engine stopped a Ray it did not start"


def test_a_ray_run_resumes_a_limited_run_and_a_third_run_writes_nothing(
    pairs_csv: Path, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    engine = choose_engine("ray", settings, workers=2)
    assert run_batch(pairs_csv, out, settings, engine=engine, limit=10).written == 10
    second = run_batch(pairs_csv, out, settings, engine=engine)
    assert (second.already_done, second.written) == (10, 20)
    finished = out.read_bytes()
    third = run_batch(pairs_csv, out, settings, engine=engine)
    assert (third.already_done, third.written) == (30, 0)
    assert out.read_bytes() == finished and len(reasons(out)) == 30


def test_ray_actors_with_the_fake_llm_write_what_one_pipeline_with_it_writes(
    pairs_csv: Path, settings: Settings, tmp_path: Path
) -> None:
    llm_settings = settings.model_copy(update={"composer": "llm"})
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(pairs_csv, local, llm_settings, engine=lambda _: InProcessEngine(make_explainer(llm_settings, FakeLLM())))
    run_batch(pairs_csv, on_ray, llm_settings, engine=lambda _: RayEngine(llm_settings, 2, llm=FakeLLM))
    assert reasons(on_ray) == reasons(local) and len(reasons(local)) == 30


def test_ray_address_without_the_ray_engine_exits_2_with_one_line(pairs_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["batch", str(pairs_csv), "--out", str(tmp_path / "out.jsonl"), "--ray-address", "auto"]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert "--ray-address goes with --engine ray" in result.stderr and result.stderr.strip().count("\n") == 0


def test_an_actor_that_cannot_open_the_index_ends_the_run_with_its_one_line_error(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path / "nowhere", composer="extractive", llm_threads=2, threads=2)
    with (
        pytest.raises(WhyrecError, match=r"^a Ray actor failed: no whyrec index at .*nowhere"),
        RayEngine(settings, 1) as engine,
    ):
        list(engine.explain([Pair(*DEMO_PAIRS[0], line=2)]))


PATIENCE = 600.0  # a guard against a hang, not a measure of speed


def test_ctrl_c_stops_a_ray_run_cleanly_and_a_rerun_finishes_it(
    demo_index: KnowledgeIndex, demo_index_dir: Path, settings: Settings, tmp_path: Path
) -> None:
    users, items = demo_index.store.user_ids(), demo_index.store.item_ids()
    rows = list(dict.fromkeys((user, items[n * 7 % len(items)]) for n, user in enumerate(users * 3)))[:1200]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user_id,item_id\n" + "".join(f"{u},{i}\n" for u, i in rows), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    env = {
        **os.environ,
        "WHYREC_COMPOSER": "extractive",
        "WHYREC_INDEX": str(demo_index_dir),
        "WHYREC_LLM_THREADS": "2",
        "WHYREC_THREADS": "2",
    }
    command = [str(WHYREC), "batch", str(pairs), "--out", str(out), "--engine", "ray", "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=hear_ctrl_c)
    # the event waited for is 20 rows written; the limit only guards against a hang (Ray starts slowly when busy)
    deadline = time.monotonic() + PATIENCE
    while not (out.exists() and out.read_bytes().count(b"\n") >= 20):
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "ended early"
        assert time.monotonic() < deadline, f"fewer than 20 rows after {PATIENCE:.0f} s"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130, stderr.decode()
    done = reasons(out)  # whole lines only, no pair twice
    assert 20 <= len(done) < len(rows) and "run the same command again" in stderr.decode()

    summary = run_batch(pairs, out, settings, engine=choose_engine("ray", settings, workers=2))
    assert (summary.already_done, summary.written) == (len(done), len(rows) - len(done))
    assert set(reasons(out)) == set(rows)
