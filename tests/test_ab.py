"""A/B prompt variants: each user always gets the same version, the re-ask keeps it, the manifest and the feedback
statistics say which one wrote a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DEMO_PAIRS
from whyrec.agent import Explainer, LLMComposer
from whyrec.checker import RuleChecker
from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.factory import make_composer
from whyrec.feedback import Feedback, FeedbackStore
from whyrec.llm.fake import FakeLLM
from whyrec.prompts import load_prompt, variant_for
from whyrec.retrieval import KnowledgeIndex, PairRetriever

VERSIONS = ["explain-v1", "explain-v2"]
V2_RULE = "Lead with the evidence that matches what this shopper wrote about before"


def test_a_user_always_gets_the_same_variant_and_users_split_about_evenly(demo_index: KnowledgeIndex) -> None:
    users = demo_index.store.user_ids()
    assigned = [variant_for(user, VERSIONS) for user in users]
    assert assigned == [variant_for(user, VERSIONS) for user in users]
    share = assigned.count("explain-v2") / len(users)
    assert 0.4 < share < 0.6, share
    assert variant_for(None, VERSIONS) == "explain-v1" and variant_for("anyone", ["explain-v1"]) == "explain-v1"
    with pytest.raises(WhyrecError):
        variant_for("anyone", [])


def user_on(version: str, demo_index: KnowledgeIndex) -> tuple[str, str]:
    """A demo user assigned `version`, with an item to explain to them."""
    for user in demo_index.store.user_ids():
        if variant_for(user, VERSIONS) == version:
            return user, demo_index.store.user_items(user)[0]
    raise AssertionError(f"no demo user on {version}")


def test_the_variant_writes_the_reason_and_the_re_ask_keeps_it(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    bad = json.dumps({"claims": [{"cites": ["e1"], "text": "It glows in the dark and plays music."}]})
    for version in VERSIONS:
        llm = FakeLLM([bad, bad])
        composer = LLMComposer(llm, [load_prompt(v) for v in VERSIONS])
        user, item = user_on(version, demo_index)
        explanation = Explainer(demo_index, retriever, composer, RuleChecker(), reask=True).explain(user, item)
        assert explanation.manifest.model is not None and explanation.manifest.model.prompt_version == version
        assert len(llm.calls) == 2  # the draft and the re-ask
        for messages, _schema in llm.calls:
            assert (V2_RULE in messages[0]["content"]) == (version == "explain-v2")


def test_settings_name_the_variants_and_an_unknown_one_is_a_clear_error() -> None:
    assert Settings(prompt_variants=" explain-v1, explain-v2 ").prompt_versions == VERSIONS
    assert Settings().prompt_versions == ["explain-v4"]  # one prompt by default; A/B when variants are named
    assert Settings(prompt="explain-v1", prompt_variants="").prompt_versions == ["explain-v1"]
    composer = make_composer(Settings(prompt_variants="explain-v1,explain-v2"), FakeLLM())
    assert isinstance(composer, LLMComposer) and list(composer.prompts) == VERSIONS
    with pytest.raises(WhyrecError, match="unknown prompt version 'explain-v9'"):
        make_composer(Settings(prompt_variants="explain-v1,explain-v9"), FakeLLM())


def test_feedback_stats_count_each_variant_apart(
    demo_index: KnowledgeIndex, retriever: PairRetriever, tmp_path: Path
) -> None:
    composer = LLMComposer(FakeLLM(), [load_prompt(v) for v in VERSIONS])
    explainer = Explainer(demo_index, retriever, composer, RuleChecker())
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for version, ratings in (("explain-v1", ["up", "up", "down"]), ("explain-v2", ["down"])):
        user, item = user_on(version, demo_index)
        explanation = explainer.explain(user, item)
        for rating in ratings:
            store.add(Feedback(user_id=user, item_id=item, rating=rating), explanation)  # type: ignore[arg-type]
    stats = {s.prompt_version: (s.up, s.down) for s in store.stats()}
    assert stats == {"explain-v1": (2, 1), "explain-v2": (0, 1)}


def test_without_variants_nothing_changes(demo_index: KnowledgeIndex, retriever: PairRetriever) -> None:
    user, item = DEMO_PAIRS[0]
    one = Explainer(demo_index, retriever, LLMComposer(FakeLLM(), load_prompt()), RuleChecker()).explain(user, item)
    assert one.manifest.model is not None and one.manifest.model.prompt_version == "explain-v1"
