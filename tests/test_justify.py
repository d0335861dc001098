"""The justification-quality probe: shipped weights, its ranking of sentences, its recorded figures, a damaged file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from whyrec.errors import WhyrecError
from whyrec.retrieval import SentenceTransformerEmbedder
from whyrec.retrieval.justify import JustificationProbe


@pytest.fixture(scope="module")
def probe() -> JustificationProbe:
    return JustificationProbe.load()


def test_shipped_weights_load_with_one_weight_per_minilm_dimension(probe: JustificationProbe) -> None:
    assert probe.dim == SentenceTransformerEmbedder.dim == 384
    assert probe.spec.version == "justify-v1"
    assert 0 < probe.threshold < 1


def test_sentences_about_the_item_outscore_chatter(
    probe: JustificationProbe, embedder: SentenceTransformerEmbedder
) -> None:
    about_item = ["They have tasty house sausages.", "The card arrived in a lovely tin and the balance was correct."]
    chatter = ["I sent this to my sister.", "5/5/16 - Not open !"]
    scores = probe.score(embedder.embed(about_item + chatter))
    assert min(scores[:2]) > max(scores[2:]), scores
    assert probe.justifies(embedder.embed(about_item[:1])).tolist() == [True]


def test_recorded_dev_balanced_accuracy_beats_the_majority_baseline(probe: JustificationProbe) -> None:
    majority = probe.spec.dev["majority"]["balanced_accuracy"]
    learned = probe.spec.dev["probe"]["balanced_accuracy"]
    assert majority == 50.0
    assert learned is not None and learned > majority


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"version": "justify-v1", "weights": [0.1,', "not valid JSON"),
        ('{"version": "justify-v1"}', "damaged"),
        (None, "cannot read"),
    ],
    ids=["truncated", "missing-fields", "missing-file"],
)
def test_damaged_probe_file_is_a_one_line_error_naming_it(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "justify-broken.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(WhyrecError) as caught:
        JustificationProbe.load(path)
    message = str(caught.value)
    assert str(path) in message and problem in message
    assert "\n" not in message


def test_weights_of_the_wrong_width_are_refused(tmp_path: Path) -> None:
    shipped = json.loads(JustificationProbe.load().spec.model_dump_json())
    probe = JustificationProbe.load(_write(tmp_path / "narrow.json", {**shipped, "weights": [0.0] * 8}))
    with pytest.raises(WhyrecError, match=r"\(n, 8\)"):
        probe.score(np.zeros((1, SentenceTransformerEmbedder.dim), dtype=np.float32))


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
