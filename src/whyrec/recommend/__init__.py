"""Recommendations to explain: a baseline recommender (item–item collaborative filtering blended with content
similarity) and its leave-one-out evaluation."""

from whyrec.recommend.baseline import BaselineRecommender, Recommendation, popularity_ranking
from whyrec.recommend.evaluate import RankingScore, evaluate_recommenders, leave_one_out

__all__ = [
    "BaselineRecommender",
    "RankingScore",
    "Recommendation",
    "evaluate_recommenders",
    "leave_one_out",
    "popularity_ranking",
]
