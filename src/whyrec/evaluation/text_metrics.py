"""Text measures for generated explanations, as reported by PETER and PEPLER.

Li, Zhang, Chen: "Personalized Transformer for Explainable Recommendation" (ACL 2021) and "Personalized Prompt
Learning for Explainable Recommendation" (TOIS 2023). Explainability: USR, FMR, FCR, DIV (the definitions follow
the papers and `utils.py` of github.com/lileipisces/PETER). Text quality: BLEU-1/4 (corpus BLEU, NLTK) and the F1 of
ROUGE-1/2/L (Google's rouge-score), both in percent as the papers report them.

Texts are tokenised by `tokenize` (lower case, runs of word characters); a feature is found in a text when its tokens
occur there contiguously, i.e. a case-insensitive match on word boundaries: "bed" is not found in "bedroom", and
"battery life" is found in "Battery-life is great". NLTK and rouge-score come with `pip install 'whyrec[eval]'`
and are imported only when BLEU or ROUGE is asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from whyrec.errors import DependencyMissingError, WhyrecError
from whyrec.knowledge.aspects import tokenize as tokenize  # the tokeniser of the measures below

# NLTK's method1 adds 0.1 to an n-gram order with no match in the whole corpus. It changes nothing whenever every
# order has at least one match (so scores on a real test set equal PETER's unsmoothed ones) and keeps BLEU-4 of a
# tiny corpus without a 4-gram match from collapsing to exactly 0 while the unigrams agree.
_SMOOTHING_EPSILON = 0.1


def unique_sentence_ratio(generated: Sequence[str]) -> float:
    """USR: distinct generated texts / number of texts, after lower-casing and collapsing whitespace.

    PETER counts distinct token sequences (`unique_sentence_percent` in its utils.py); here the whole text, lower-cased
    and with every run of whitespace made one space, is the unit, so punctuation still tells two texts apart.
    """
    _require_texts(generated, "generated")
    return len({" ".join(text.lower().split()) for text in generated}) / len(generated)


def feature_matching_ratio(generated: Sequence[str], features: Sequence[str]) -> float:
    """FMR: the share of texts that contain their own pair's ground-truth feature (word boundary, any case).

    PETER: FMR = 1/N · Σ δ(f_{u,i} ∈ Ŝ_{u,i}), the ground-truth feature of pair (u, i) found in its generated text.
    """
    _require_texts(generated, "generated")
    _require_same_length(generated, features, "features")
    hits = 0
    for text, feature in zip(generated, features, strict=True):
        phrase = _phrase(feature)
        hits += phrase in _ngrams(tokenize(text), [len(phrase)])
    return hits / len(generated)


def feature_coverage_ratio(generated: Sequence[str], all_features: Iterable[str]) -> float:
    """FCR: distinct features of the vocabulary found in any generated text / size of the vocabulary.

    PETER: FCR = N_g / |F|, N_g the number of distinct features in the generated texts, F the feature vocabulary.
    The vocabulary is counted after lower-casing and tokenising, so "Bed" and "bed" are one feature.
    """
    vocabulary = _vocabulary(all_features)
    return _coverage(_found_features(generated, vocabulary), vocabulary)


def feature_diversity(generated: Sequence[str], all_features: Iterable[str]) -> float:
    """DIV: the mean number of vocabulary features two generated texts share; lower is more diverse.

    PETER (ACL 2021, evaluation metrics, and `feature_diversity` in its utils.py):
    DIV = 2 / (N(N−1)) · Σ_{i<j} |F̂_i ∩ F̂_j|, with F̂_i the set of vocabulary features found in text i and N the
    number of texts. Fewer than two texts make no pair; DIV is then 0.0 (nothing is shared).
    """
    return _diversity(_found_features(generated, _vocabulary(all_features)))


def bleu(generated: Sequence[str], references: Sequence[str], n: int = 4) -> float:
    """Corpus BLEU-n in percent, one reference per text: NLTK `corpus_bleu` with uniform weights 1/n.

    n=1 gives weights (1,), n=4 gives (0.25,)*4, as PETER's BLEU-1 and BLEU-4. Smoothing: NLTK's
    `SmoothingFunction(epsilon=0.1).method1`, which alters an n-gram order only when it has no match in the whole
    corpus (PETER's own BLEU is unsmoothed). Texts with fewer than n tokens hold no n-gram, so BLEU-4 of a corpus of
    three-word texts stays below 100 even when they equal their references.
    """
    if not 1 <= n <= 4:
        raise WhyrecError(f"BLEU-{n} is not supported: choose n from 1 to 4")
    _require_texts(generated, "generated")
    _require_same_length(generated, references, "references")
    bleu_score = _import_nltk_bleu()
    score = bleu_score.corpus_bleu(
        [[tokenize(reference)] for reference in references],
        [tokenize(text) for text in generated],
        weights=(1.0 / n,) * n,
        smoothing_function=bleu_score.SmoothingFunction(epsilon=_SMOOTHING_EPSILON).method1,
    )
    return 100.0 * float(score)


class RougeF1(NamedTuple):
    """F1 of ROUGE-1, ROUGE-2 and ROUGE-L, in percent, averaged over pairs."""

    rouge1: float
    rouge2: float
    rougeL: float


def rouge(generated: Sequence[str], references: Sequence[str]) -> RougeF1:
    """The F1 of ROUGE-1, ROUGE-2 and ROUGE-L in percent, each the mean over (generated, reference) pairs.

    Google's rouge-score: `RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(reference, text)`,
    which tokenises on its own (lower case, [a-z0-9] runs, Porter stemmer on words longer than three letters).
    rougeL is the sentence-level LCS, not rougeLsum.
    """
    _require_texts(generated, "generated")
    _require_same_length(generated, references, "references")
    scorer = _rouge_scorer()
    totals = [0.0, 0.0, 0.0]
    for text, reference in zip(generated, references, strict=True):
        scores = scorer.score(reference, text)  # (target, prediction): the reference comes first
        for k, name in enumerate(RougeF1._fields):
            totals[k] += float(scores[name].fmeasure)
    return RougeF1(*(100.0 * total / len(generated) for total in totals))


@dataclass(frozen=True)
class TextMetrics:
    """The PETER/PEPLER measures of one generator: ratios in [0, 1], DIV a count, BLEU and ROUGE in percent."""

    usr: float
    fmr: float
    fcr: float
    div: float
    bleu1: float
    bleu4: float
    rouge1: float
    rouge2: float
    rougeL: float

    def describe(self) -> str:
        """One line, in the order and precision of PETER's tables."""
        return (
            f"USR {self.usr:.4f}  FMR {self.fmr:.4f}  FCR {self.fcr:.4f}  DIV {self.div:.4f}  "
            f"BLEU-1 {self.bleu1:.2f}  BLEU-4 {self.bleu4:.2f}  "
            f"ROUGE-1 {self.rouge1:.2f}  ROUGE-2 {self.rouge2:.2f}  ROUGE-L {self.rougeL:.2f}"
        )


def text_metrics(
    generated: Sequence[str], references: Sequence[str], features: Sequence[str], all_features: Iterable[str]
) -> TextMetrics:
    """All measures for one generator: `generated[k]` explains the pair whose reference is `references[k]` and whose
    ground-truth feature is `features[k]`; `all_features` is the feature vocabulary of the data set."""
    _require_texts(generated, "generated")
    _require_same_length(generated, references, "references")
    _require_same_length(generated, features, "features")
    vocabulary = _vocabulary(all_features)
    found = _found_features(generated, vocabulary)
    rouge_f1 = rouge(generated, references)
    return TextMetrics(
        usr=unique_sentence_ratio(generated),
        fmr=feature_matching_ratio(generated, features),
        fcr=_coverage(found, vocabulary),
        div=_diversity(found),
        bleu1=bleu(generated, references, 1),
        bleu4=bleu(generated, references, 4),
        rouge1=rouge_f1.rouge1,
        rouge2=rouge_f1.rouge2,
        rougeL=rouge_f1.rougeL,
    )


Phrase = tuple[str, ...]


def _phrase(feature: str) -> Phrase:
    tokens = tuple(tokenize(feature))
    if not tokens:
        raise WhyrecError(f"feature {feature!r} holds no word: every feature needs at least one letter or digit")
    return tokens


def _vocabulary(all_features: Iterable[str]) -> frozenset[Phrase]:
    if isinstance(all_features, str):
        raise WhyrecError("all_features is one string: pass the feature vocabulary as a list of features")
    vocabulary = frozenset(_phrase(feature) for feature in all_features)
    if not vocabulary:
        raise WhyrecError("the feature vocabulary is empty: pass every feature of the data set as all_features")
    return vocabulary


def _ngrams(tokens: Sequence[str], lengths: Iterable[int]) -> set[Phrase]:
    return {tuple(tokens[i : i + n]) for n in lengths for i in range(len(tokens) - n + 1)}


def _found_features(generated: Sequence[str], vocabulary: frozenset[Phrase]) -> list[frozenset[Phrase]]:
    """F̂_i for each text: the vocabulary features whose tokens occur contiguously in it."""
    _require_texts(generated, "generated")
    lengths = {len(phrase) for phrase in vocabulary}
    return [frozenset(vocabulary & _ngrams(tokenize(text), lengths)) for text in generated]


def _coverage(found: Sequence[frozenset[Phrase]], vocabulary: frozenset[Phrase]) -> float:
    return len(set[Phrase]().union(*found)) / len(vocabulary)


def _diversity(found: Sequence[frozenset[Phrase]]) -> float:
    pairs = len(found) * (len(found) - 1) // 2
    if pairs == 0:
        return 0.0
    # Σ_{i<j} |F̂_i ∩ F̂_j| counts, per feature in c texts, the c(c−1)/2 pairs sharing it: linear, not quadratic, in N.
    in_texts = Counter(feature for features in found for feature in features)
    return sum(c * (c - 1) // 2 for c in in_texts.values()) / pairs


def _require_texts(texts: Sequence[str], name: str) -> None:
    if isinstance(texts, str):
        raise WhyrecError(f"{name} is one string: pass a list of texts")
    if not texts:
        raise WhyrecError(f"no {name} texts: the measures need at least one")


def _require_same_length(generated: Sequence[str], other: Sequence[str], name: str) -> None:
    if isinstance(other, str):
        raise WhyrecError(f"{name} is one string: pass a list with one entry per generated text")
    if len(other) != len(generated):
        raise WhyrecError(
            f"{len(generated)} generated texts but {len(other)} {name}: pass one entry per generated text, in order"
        )


def require_dependencies() -> None:
    """Raise DependencyMissingError now if BLEU or ROUGE could not be computed later."""
    _import_nltk_bleu()
    _rouge_scorer()


def _import_nltk_bleu() -> Any:
    try:
        from nltk.translate import bleu_score
    except ImportError as exc:
        raise DependencyMissingError(f"BLEU needs NLTK: pip install 'whyrec[eval]' ({exc})") from exc
    return bleu_score


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise DependencyMissingError(f"ROUGE needs rouge-score: pip install 'whyrec[eval]' ({exc})") from exc
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
