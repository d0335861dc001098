"""`whyrec eval recommend`: leave-one-out hit rate and NDCG of the baseline recommender beside popularity.

Every user with at least two interactions holds out their latest one (ties by item id); the recommender is built
without any held-out interaction (not in the interaction matrix, not in the user's history, and the user's own
review is left out of the item's content vector), then ranks every item the user does not have. One relevant item
per user, so HR@k is the share of users whose held-out item is in the top k, and NDCG@k the mean of 1/log2(rank + 1)
over those hits (0 for a miss). Rankings in the same run: the blend, collaborative only, content only, popularity,
and a random ranking, whose HR@k and NDCG@k are their exact expectations (no sample): a user with n candidate items
(those they do not have, the held-out one included) finds it in a random top k with probability min(k, n)/n, at each
rank r ≤ k with probability 1/n. On a catalogue of 50 items a random top 10 already finds about a fifth of them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from whyrec.errors import WhyrecError
from whyrec.files import write_atomic
from whyrec.recommend.baseline import DEFAULT_ALPHA, BaselineRecommender, popularity_ranking
from whyrec.retrieval import KnowledgeIndex

CUTOFFS = (5, 10)


@dataclass(frozen=True)
class RankingScore:
    name: str
    users: int
    hit_rate: dict[int, float]
    ndcg: dict[int, float]


def leave_one_out(index: KnowledgeIndex) -> list[tuple[str, str]]:
    """(user, latest item) for every user with at least two interactions."""
    latest: dict[str, tuple[int, str]] = {}
    counts: dict[str, int] = {}
    for user, item, _rating, time in index.store.interactions():
        counts[user] = counts.get(user, 0) + 1
        key = (time or 0, item)
        if user not in latest or key > latest[user]:
            latest[user] = key
    held = [(user, latest[user][1]) for user in sorted(latest) if counts[user] >= 2]
    if not held:
        raise WhyrecError("no user has two interactions: nothing to hold out")
    return held


def score(name: str, ranks: list[int | None]) -> RankingScore:
    """HR@k and NDCG@k from each user's rank of their held-out item (None: not ranked)."""
    users = len(ranks)
    hit = {k: sum(r is not None and r <= k for r in ranks) / users for k in CUTOFFS}
    ndcg = {k: sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= k) / users for k in CUTOFFS}
    return RankingScore(name, users, hit, ndcg)


def evaluate_recommenders(index: KnowledgeIndex, alpha: float = DEFAULT_ALPHA) -> list[RankingScore]:
    held = leave_one_out(index)
    depth = max(CUTOFFS)
    rankings: dict[str, list[int | None]] = {}
    for name, weight in ((f"blend (alpha {alpha:g})", alpha), ("collaborative only", 1.0), ("content only", 0.0)):
        recommender = BaselineRecommender(index, alpha=weight, held_out=held)
        rankings[name] = [_rank([r.item_id for r in recommender.recommend(u, depth)], i) for u, i in held]
    rankings["popularity"] = [_rank(popularity_ranking(recommender, u, depth), i) for u, i in held]
    scores = [score(name, ranks) for name, ranks in rankings.items()]
    candidates = [len(recommender.items) - len(set(recommender.histories.get(u, []))) for u, _ in held]
    return [*scores, random_expectation(candidates)]


def random_expectation(candidates: list[int]) -> RankingScore:
    """HR@k and NDCG@k a uniformly random ranking scores in expectation, from each user's number of candidate items
    (the held-out item among them)."""
    users = len(candidates)
    hit = {k: sum(min(k, n) / n for n in candidates if n > 0) / users for k in CUTOFFS}
    ndcg = {
        k: sum(sum(1 / math.log2(r + 1) for r in range(1, min(k, n) + 1)) / n for n in candidates if n > 0) / users
        for k in CUTOFFS
    }
    return RankingScore("random (expected)", users, hit, ndcg)


def _rank(ranked: list[str], item: str) -> int | None:
    return ranked.index(item) + 1 if item in ranked else None


def catalogue_scores(index: KnowledgeIndex, scores: list[RankingScore], label: str) -> dict[str, object]:
    """One catalogue's scores with its size, for a results file."""
    store = index.store
    return {
        "catalogue": label,
        "catalogue_sha256": index.manifest.catalogue_sha256,
        "items": len(store.item_ids()),
        "users": store.count_users(),
        "interactions": len(store.interactions()),
        "scores": [asdict(s) for s in scores],
    }


def write_scores(path: Path, catalogues: list[dict[str, object]], alpha: float) -> None:
    """Catalogues' scores as JSON with the commit, machine, package versions and date, in one rename."""
    from whyrec.evaluation.run import package_versions, run_record

    record = {
        "run": run_record(),
        "packages": package_versions(("faiss-cpu", "scipy")),
        "alpha": alpha,
        "catalogues": catalogues,
    }
    write_atomic(path, json.dumps(record, indent=2) + "\n")
