"""The PETER/PEPLER text measures on small hand-computed cases; the arithmetic is in the comments."""

from __future__ import annotations

import math

import pytest

from whyrec.errors import WhyrecError
from whyrec.evaluation.text_metrics import (
    TextMetrics,
    bleu,
    feature_coverage_ratio,
    feature_diversity,
    feature_matching_ratio,
    rouge,
    text_metrics,
    tokenize,
    unique_sentence_ratio,
)

VOCABULARY = ["food", "room", "staff", "pool", "price"]
HOTEL = [
    "The food and the room were great.",  # F1 = {food, room}
    "The room was clean.",  # F2 = {room}
    "Food was tasty, staff friendly!",  # F3 = {food, staff}
]


def test_tokenizer_lower_cases_and_splits_on_anything_but_word_characters() -> None:
    assert tokenize("Battery-life: GREAT, isn't it?") == ["battery", "life", "great", "isn", "t", "it"]


def test_usr_counts_texts_equal_up_to_case_and_whitespace_once() -> None:
    # "Great  food" and "great food" are one sentence, "Nice room" another: 2 distinct / 3 texts
    assert unique_sentence_ratio(["Great  food", "great food", "Nice room"]) == pytest.approx(2 / 3)


def test_usr_tells_texts_apart_by_punctuation() -> None:
    assert unique_sentence_ratio(["great food", "great food!"]) == 1.0  # 2 distinct / 2


def test_fmr_counts_a_feature_only_on_word_boundaries_and_in_any_case() -> None:
    generated = ["the bed was comfy", "the bedroom was big", "Staff were kind"]
    # "bed" found; "bed" inside "bedroom" does not count; "staff" matches "Staff": 2 / 3
    assert feature_matching_ratio(generated, ["bed", "bed", "staff"]) == pytest.approx(2 / 3)


def test_fmr_checks_each_text_against_its_own_pairs_feature() -> None:
    # text 1 holds "room" but its feature is "staff"; text 2 holds "staff" but its feature is "room": 0 / 2
    assert feature_matching_ratio(["nice room", "kind staff"], ["staff", "room"]) == 0.0


def test_fmr_finds_a_multi_word_feature_across_punctuation() -> None:
    assert feature_matching_ratio(["Battery-life is great", "the battery died"], ["battery life"] * 2) == 0.5


def test_fcr_is_distinct_features_generated_over_the_vocabulary_size() -> None:
    # F1 ∪ F2 ∪ F3 = {food, room, staff}: 3 of 5 features
    assert feature_coverage_ratio(HOTEL, VOCABULARY) == pytest.approx(3 / 5)


def test_fcr_counts_a_feature_spelt_in_two_cases_once_in_the_vocabulary() -> None:
    assert feature_coverage_ratio(HOTEL, [*VOCABULARY, "Food"]) == pytest.approx(3 / 5)


def test_div_is_the_mean_overlap_of_feature_sets_over_all_pairs_of_texts() -> None:
    # |F1 ∩ F2| = |{room}| = 1, |F1 ∩ F3| = |{food}| = 1, |F2 ∩ F3| = 0; sum 2 over 3·2/2 = 3 pairs
    assert feature_diversity(HOTEL, VOCABULARY) == pytest.approx(2 / 3)


def test_div_of_identical_texts_is_the_number_of_features_each_holds() -> None:
    # 4 copies of {food, room}: every one of the 6 pairs shares 2 features
    assert feature_diversity([HOTEL[0]] * 4, VOCABULARY) == 2.0


def test_div_of_a_single_text_is_zero_as_there_is_no_pair() -> None:
    assert feature_diversity([HOTEL[0]], VOCABULARY) == 0.0


def test_bleu_of_texts_equal_to_their_references_is_100() -> None:
    texts = ["the room was clean and quiet", "staff were very kind to us"]
    assert bleu(texts, texts, 1) == pytest.approx(100.0)
    assert bleu(texts, texts, 4) == pytest.approx(100.0)


def test_bleu_of_texts_sharing_no_word_with_their_references_is_0() -> None:
    assert bleu(["great food here"], ["the room was clean"], 1) == 0.0
    assert bleu(["great food here"], ["the room was clean"], 4) == 0.0


def test_bleu4_is_the_geometric_mean_of_the_four_precisions() -> None:
    # p1 = 4/5, p2 = 3/4, p3 = 2/3, p4 = 1/2; same lengths so no brevity penalty: (4/5·3/4·2/3·1/2)^(1/4) = 0.2^0.25
    assert bleu(["a b c d e"], ["a b c d f"], 4) == pytest.approx(100 * 0.2**0.25)


def test_bleu_sums_ngram_counts_over_the_corpus_before_dividing() -> None:
    # unigram matches 3 + 0 over 3 + 2 generated words = 0.6 (averaging per text would give 0.5); 5 vs 5 words
    assert bleu(["the cat sat", "a dog"], ["the cat sat", "one bird"], 1) == pytest.approx(60.0)


def test_bleu_penalises_texts_shorter_than_their_references() -> None:
    # p1 = 2/2, brevity penalty exp(1 − 5/2) for 2 generated against 5 reference words
    assert bleu(["the cat"], ["the cat sat on mats"], 1) == pytest.approx(100 * math.exp(-1.5))


def test_bleu4_smooths_an_order_with_no_match_by_epsilon_0_1() -> None:
    # three words hold no 4-gram: p4 = (0 + 0.1) / 1 by method1, p1 = p2 = p3 = 1: (0.1)^(1/4)
    assert bleu(["the cat sat"], ["the cat sat"], 4) == pytest.approx(100 * 0.1**0.25)


def test_rouge_of_texts_equal_to_their_references_is_100() -> None:
    texts = ["the room was clean", "staff were kind"]
    assert rouge(texts, texts) == pytest.approx((100.0, 100.0, 100.0))


def test_rouge_of_texts_sharing_no_word_with_their_references_is_0() -> None:
    assert rouge(["great food here"], ["the room was clean"]) == (0.0, 0.0, 0.0)


def test_rouge_f1_is_averaged_over_pairs() -> None:
    # pair 1 identical: 100 each. pair 2 "the cat sat" vs "the cat ran": ROUGE-1 2/3 (P = R), ROUGE-2 1/2
    # ({the cat, cat sat} vs {the cat, cat ran}), ROUGE-L LCS "the cat" 2/3. Means: 83.33, 75, 83.33
    scores = rouge(["a red car", "the cat sat"], ["a red car", "the cat ran"])
    assert scores == pytest.approx((100 * (1 + 2 / 3) / 2, 75.0, 100 * (1 + 2 / 3) / 2))
    assert scores.rougeL == scores[2]


def test_rouge_matches_words_after_porter_stemming() -> None:
    # "cats" → "cat" and "running", "runs" → "run"
    assert rouge(["cats running"], ["cat runs"]) == pytest.approx((100.0, 100.0, 100.0))


def test_text_metrics_gathers_every_measure_and_describes_them_on_one_line() -> None:
    references = ["The food and the room were great.", "The room was clean and quiet.", "Staff were friendly."]
    metrics = text_metrics(HOTEL, references, ["food", "pool", "staff"], VOCABULARY)
    assert metrics == TextMetrics(
        usr=1.0,
        fmr=pytest.approx(2 / 3),  # "food" in text 1, no "pool" in text 2, "staff" in text 3
        fcr=pytest.approx(3 / 5),
        div=pytest.approx(2 / 3),
        bleu1=pytest.approx(bleu(HOTEL, references, 1)),
        bleu4=pytest.approx(bleu(HOTEL, references, 4)),
        rouge1=pytest.approx(rouge(HOTEL, references).rouge1),
        rouge2=pytest.approx(rouge(HOTEL, references).rouge2),
        rougeL=pytest.approx(rouge(HOTEL, references).rougeL),
    )
    line = metrics.describe()
    assert "\n" not in line and line.startswith("USR 1.0000  FMR 0.6667  FCR 0.6000  DIV 0.6667  BLEU-1 ")


def test_lists_of_different_lengths_are_refused_with_both_lengths() -> None:
    with pytest.raises(WhyrecError, match="3 generated texts but 2 references"):
        bleu(HOTEL, HOTEL[:2], 4)
    with pytest.raises(WhyrecError, match="3 generated texts but 2 references"):
        rouge(HOTEL, HOTEL[:2])
    with pytest.raises(WhyrecError, match="3 generated texts but 1 features"):
        feature_matching_ratio(HOTEL, ["food"])
    with pytest.raises(WhyrecError, match="3 generated texts but 2 features"):
        text_metrics(HOTEL, HOTEL, ["food", "room"], VOCABULARY)


def test_empty_input_is_refused() -> None:
    with pytest.raises(WhyrecError, match="no generated texts"):
        unique_sentence_ratio([])
    with pytest.raises(WhyrecError, match="no generated texts"):
        text_metrics([], [], [], VOCABULARY)
    with pytest.raises(WhyrecError, match="vocabulary is empty"):
        feature_coverage_ratio(HOTEL, [])


def test_a_feature_without_a_word_is_refused() -> None:
    with pytest.raises(WhyrecError, match="holds no word"):
        feature_matching_ratio(["nice room"], ["  "])


def test_a_single_string_in_place_of_a_list_is_refused() -> None:
    with pytest.raises(WhyrecError, match="generated is one string"):
        unique_sentence_ratio("great food")
    with pytest.raises(WhyrecError, match="all_features is one string"):
        feature_coverage_ratio(HOTEL, "food")


def test_bleu_orders_beyond_4_are_refused() -> None:
    with pytest.raises(WhyrecError, match="BLEU-5 is not supported"):
        bleu(HOTEL, HOTEL, 5)
