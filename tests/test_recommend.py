"""The baseline recommender: its parts on hand-computed cases, then on the demo catalogue and through the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DEMO_PAIRS
from whyrec.cli import app
from whyrec.errors import UnknownIdError
from whyrec.recommend import BaselineRecommender, evaluate_recommenders, leave_one_out, popularity_ranking
from whyrec.recommend.baseline import _item_cosine
from whyrec.recommend.evaluate import score
from whyrec.retrieval import KnowledgeIndex

runner = CliRunner()


def test_item_cosine_is_the_cosine_of_the_interaction_columns() -> None:
    # users A and B have items 0 and 1, C has 1 and 2 (and 2 twice, which counts once)
    similarity = _item_cosine({"A": [0, 1], "B": [0, 1], "C": [1, 2, 2]}, 3).toarray()
    assert similarity[0, 1] == pytest.approx(2 / math.sqrt(2 * 3))
    assert similarity[1, 2] == pytest.approx(1 / math.sqrt(3))
    assert similarity[0, 2] == 0.0 and np.all(np.diag(similarity) == 0.0)


def test_hit_rate_and_ndcg_by_hand() -> None:
    result = score("x", [1, 3, None, 7])
    assert result.hit_rate == {5: 0.5, 10: 0.75}
    assert result.ndcg[5] == pytest.approx((1 + 1 / math.log2(4)) / 4)
    assert result.ndcg[10] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(8)) / 4)


def test_recommendations_leave_out_what_the_user_has_and_come_best_first(demo_index: KnowledgeIndex) -> None:
    recommender = BaselineRecommender(demo_index)
    user = DEMO_PAIRS[0][0]
    picks = recommender.recommend(user, 5)
    assert len(picks) == 5 and len({p.item_id for p in picks}) == 5
    assert not {p.item_id for p in picks} & set(demo_index.store.user_items(user))
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    assert all(set(p.because) <= set(recommender.history(user)) and p.because for p in picks)
    assert recommender.recommend(user, 5) == picks  # deterministic


def test_a_held_out_item_is_unseen_and_can_be_recommended_back(demo_index: KnowledgeIndex) -> None:
    user, item = DEMO_PAIRS[1]
    recommender = BaselineRecommender(demo_index, held_out=[(user, item)])
    assert item not in recommender.history(user)
    assert recommender.rank_of(user, item) is not None
    assert BaselineRecommender(demo_index).rank_of(user, item) is None  # owned: never recommended


def test_a_user_with_no_history_gets_the_most_popular_items(demo_index: KnowledgeIndex) -> None:
    user = DEMO_PAIRS[2][0]
    everything = [(user, item) for item in demo_index.store.user_items(user)]
    recommender = BaselineRecommender(demo_index, held_out=everything)
    assert recommender.history(user) == []
    picks = recommender.recommend(user, 4)
    assert [p.item_id for p in picks] == popularity_ranking(recommender, user, 4)
    assert all(p.because == [] for p in picks)


def test_no_user_is_a_new_shopper_who_gets_the_most_popular_items(demo_index: KnowledgeIndex) -> None:
    recommender = BaselineRecommender(demo_index)
    picks = recommender.recommend(None, 3)
    assert [p.item_id for p in picks] == popularity_ranking(recommender, "nobody", 3)
    assert all(p.because == [] for p in picks)


def test_unknown_user_is_a_clear_error(demo_index: KnowledgeIndex) -> None:
    with pytest.raises(UnknownIdError, match="unknown user 'nobody'"):
        BaselineRecommender(demo_index).recommend("nobody")


def test_leave_one_out_beats_popularity_on_the_demo_catalogue(demo_index: KnowledgeIndex) -> None:
    held = leave_one_out(demo_index)
    assert len(held) == len({user for user, _ in held}) > 100
    scores = {s.name: s for s in evaluate_recommenders(demo_index)}
    blend, popularity = scores["blend (alpha 0.5)"], scores["popularity"]
    assert blend.users == popularity.users == len(held)
    assert blend.hit_rate[10] > 1.5 * popularity.hit_rate[10] and blend.ndcg[10] > 1.5 * popularity.ndcg[10]
    chance = scores["random (expected)"]
    assert chance.users == len(held) and blend.hit_rate[10] > 1.5 * chance.hit_rate[10]


def test_a_random_ranking_is_scored_by_its_exact_expectation() -> None:
    from whyrec.recommend.evaluate import random_expectation

    # 10 candidates: a random top 5 holds the item half the time, at each rank with probability 1/10; 3 candidates:
    # every top 5 holds it
    chance = random_expectation([10, 3])
    assert chance.hit_rate[5] == pytest.approx((0.5 + 1.0) / 2) and chance.hit_rate[10] == pytest.approx(1.0)
    one_in_ten = sum(1 / math.log2(r + 1) for r in range(1, 6)) / 10
    one_in_three = sum(1 / math.log2(r + 1) for r in range(1, 4)) / 3
    assert chance.ndcg[5] == pytest.approx((one_in_ten + one_in_three) / 2)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_recommend_lists_and_explains_each_pick(demo_index_dir: Path) -> None:
    user = DEMO_PAIRS[0][0]
    code, out, err = run("recommend", "--user", user, "-k", "3", "--index", str(demo_index_dir))
    assert code == 0, err
    assert f"Recommended for user {user}" in out and out.count("B0") >= 3
    code, out, err = run(
        "recommend", "--user", user, "-k", "2", "--explain", "--composer", "extractive", "--json",
        "--index", str(demo_index_dir),
    )  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)["recommendations"]
    assert len(rows) == 2
    for row in rows:
        explanation = row["explanation"]
        assert explanation["item_id"] == row["item_id"] and explanation["status"] in ("ok", "partial")
        assert all(verdict["label"] == "supported" for verdict in explanation["verdicts"])


def test_cli_recommend_without_a_user_gives_a_new_shopper_popular_items_and_no_you(demo_index_dir: Path) -> None:
    index = ["--index", str(demo_index_dir)]
    code, out, err = run("recommend", "-k", "3", *index)
    assert code == 0, err
    assert "Recommended for a new shopper (no history: the most popular items)" in out
    code, out, err = run("recommend", "-k", "2", "--explain", "--composer", "extractive", "--json", *index)
    assert code == 0, err
    rows = json.loads(out)["recommendations"]
    assert len(rows) == 2
    for row in rows:
        explanation = row["explanation"]
        assert explanation["user_id"] is None and explanation["status"] in ("ok", "partial")
        assert all(e["kind"] != "history" for e in explanation["evidence"])
        assert not any(word in explanation["reason"].lower().split() for word in ("you", "your"))


def test_cli_recommend_unknown_user_exits_2_with_one_line(demo_index_dir: Path) -> None:
    code, out, err = run("recommend", "--user", "nobody", "--index", str(demo_index_dir))
    assert code == 2 and out == "" and "unknown user 'nobody'" in err and err.strip().count("\n") == 0


def test_cli_eval_recommend_prints_every_ranking_and_the_ratio(demo_index_dir: Path) -> None:
    code, out, err = run("eval", "recommend", "--index", str(demo_index_dir))
    assert code == 0, err
    for name in ("blend (alpha 0.5)", "collaborative only", "content only", "popularity", "random (expected)"):
        assert name in out
    assert "blend / popularity: HR@10" in out and "blend / random (expected): HR@10" in out


def test_cli_eval_recommend_writes_the_scores_with_the_run_record(demo_index_dir: Path, tmp_path: Path) -> None:
    import json

    code, _, err = run("eval", "recommend", "--index", str(demo_index_dir), "--out", str(tmp_path / "rec.json"))
    assert code == 0, err
    record = json.loads((tmp_path / "rec.json").read_text())
    [catalogue] = record["catalogues"]
    assert record["run"]["git_commit"] and catalogue["items"] == 50
    assert [s["name"] for s in catalogue["scores"]][-1] == "random (expected)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json"]  # nothing half-written left beside it


def test_a_profile_names_the_aspects_of_the_users_own_reviews_with_their_evidence(demo_index: KnowledgeIndex) -> None:
    from whyrec.knowledge.profile import AspectProfiler
    from whyrec.knowledge.sentiment import polarity

    profiler = AspectProfiler(demo_index.store, demo_index.vocabulary, polarity)
    user = DEMO_PAIRS[0][0]
    found = profiler.profile(user)
    assert found.items == len(demo_index.store.user_items(user)) and found.aspects
    assert [a.weight for a in found.aspects] == sorted((a.weight for a in found.aspects), reverse=True)
    units = demo_index.store.units_by_id(u for a in found.aspects for u in a.unit_ids)
    for aspect in found.aspects:
        assert aspect.mentions == len(aspect.unit_ids) and -1.0 <= aspect.sentiment <= 1.0
        for unit_id in aspect.unit_ids:  # each is one of the user's own review sentences, and names the aspect
            unit = units[unit_id]
            assert unit.user_id == user and unit.kind == "review" and aspect.aspect in unit.text.lower()
    item = units[found.aspects[0].unit_ids[0]].item_id
    without = profiler.profile(user, exclude_item=item)
    assert all(units.get(u) is None or units[u].item_id != item for a in without.aspects for u in a.unit_ids)


def test_cli_profile_prints_aspects_or_says_there_are_none(demo_index_dir: Path) -> None:
    code, out, err = run("profile", DEMO_PAIRS[0][0], "--index", str(demo_index_dir))
    assert code == 0, err
    assert "aspect" in out and "positive" in out and "items in the history" in out
    code, out, _ = run("profile", DEMO_PAIRS[1][0], "--index", str(demo_index_dir))
    assert code == 0 and "No aspect found in their reviews" in out
    code, out, err = run("profile", "nobody", "--index", str(demo_index_dir))
    assert code == 2 and "unknown user 'nobody'" in err
