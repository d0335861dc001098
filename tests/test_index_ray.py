"""`whyrec index --engine ray`: the embedding spread over a Ray Data actor pool gives the index a local build gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DEMO
from whyrec.cli import app
from whyrec.knowledge import Store
from whyrec.retrieval import HashingEmbedder, build_index
from whyrec.retrieval import build as build_module
from whyrec.retrieval.index import STORE_FILE
from whyrec.retrieval.ray_embed import RayEngine
from whyrec.retrieval.vectors import VECTORS_FILE

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_two_actors_build_the_index_a_local_build_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "EMBED_BATCH", 200)  # 27 batches: two windows of 16 over two actors
    local = build_index(DEMO, tmp_path / "local", HashingEmbedder())
    engine = RayEngine(HashingEmbedder, "hashing-384", 384, workers=2, cores=2)
    assert engine.window == 16
    with engine:
        spread = build_index(DEMO, tmp_path / "ray", HashingEmbedder(), engine=engine)
    assert spread.count == local.count and spread.embedded == local.embedded == local.count
    a, b = Store(tmp_path / "local" / STORE_FILE), Store(tmp_path / "ray" / STORE_FILE)
    assert a.unit_texts_between(1, 10**9) == b.unit_texts_between(1, 10**9)  # same ids, same order
    assert np.allclose(np.load(tmp_path / "local" / VECTORS_FILE), np.load(tmp_path / "ray" / VECTORS_FILE), atol=1e-6)


def test_the_cli_builds_on_ray_and_refuses_ray_options_without_it(tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "index")
    result = runner.invoke(
        app, ["index", str(DEMO), "--out", out, "--embedder", "hashing", "--engine", "ray", "--workers", "2"]
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "index" / VECTORS_FILE).exists()
    result = runner.invoke(app, ["index", str(DEMO), "--out", out, "--embedder", "hashing", "--workers", "2"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --workers and --ray-address go with --engine ray")
