"""Items without a title are named by what their reviewers call them, and their raw id never reaches a prompt, an
evidence unit or a reason."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import write_jsonl
from whyrec.agent.draft import DraftRequest
from whyrec.agent.llm_composer import LLMComposer
from whyrec.checker.config import load_thresholds
from whyrec.checker.rules.base import Context
from whyrec.knowledge import Store, load_catalogue, split_catalogue
from whyrec.knowledge.naming import DerivedName, ItemName, name_from_reviews, name_items
from whyrec.knowledge.split import product_units
from whyrec.llm.fake import FakeLLM
from whyrec.prompts import load_prompt
from whyrec.retrieval import HashingEmbedder, KnowledgeIndex, PairRetriever, build_index, open_index
from whyrec.retrieval.index import STORE_FILE
from whyrec.schema import Product

NAMED, UNNAMED = "B00X6LREJU", "B00X6LREH2"
SHOPPER = "A357WDSS5HWP2D"  # reviewed both
# Real rows of ../shared/data/amazon/Magazine_Subscriptions_5.jsonl (Amazon Review Data 2018): every review of two
# cooking magazines, a catalogue of reviews without product metadata. (reviewerID, asin, overall, summary, reviewText)
ROWS = [
    ("A2RWN9FTD1HPHL", UNNAMED, 4.0, "Informative and enjoyable",
     "I am pleased with the first issue received and look forward to others in the future."),
    ("A3NHZASLOPEMA", UNNAMED, 5.0, "Five Stars", "Good for healthy recipes."),
    ("A3MQ98LDJDY2V5", UNNAMED, 5.0, "Five Stars", "visually delicious"),
    ("AEFAZU2T4NYTR", NAMED, 5.0, "Five Stars", "great mag"),
    (SHOPPER, NAMED, 5.0, "Five Stars", "Always enjoy this magazine.."),
    ("A1EWCCX0LSRO7J", NAMED, 4.0, "you'll enjoy this.", "If you are someone who actually cooks, you'll enjoy this."),
    ("AYFVLMPVVDC4L", UNNAMED, 4.0, "Four Stars", "Good magazine!"),
    ("A2BSKT65F16LAQ", NAMED, 5.0, "Five Stars", "Good magazine"),
    ("AA14AMM03HMXW", NAMED, 3.0, "Too many times they refer you to the website to ...",
     "Too many times they refer you to the website to get a recipe or additional news.  Why buy the magazine if "
     "they do that?"),
    ("A1CSW86NSG4G7T", NAMED, 5.0, "Great recipes!", "Great recipes! I love this magazine!"),
    ("AU21OR7VRTFHK", NAMED, 5.0, "Five Stars", "Great recipes."),
    ("A2OWHFU968VPKQ", NAMED, 5.0, "Five Stars", "Love this magazine"),
    (SHOPPER, UNNAMED, 5.0, "Five Stars", "Great!"),
    ("A2BSKT65F16LAQ", UNNAMED, 5.0, "Ok magazine. a lot of the reciepes use ingredients ...",
     "Ok magazine.a lot of the reciepes use ingredients, spices not readily available where I live."),
    ("A18X3E6V8DGIDZ", NAMED, 1.0, "Cancelled subscripton",
     "Not what I expected. Found it boring and lacking information about recipes and articles. I found Internet much "
     "better for those categories"),
]  # fmt: skip
MAGAZINE_REVIEWS: list[dict[str, object]] = [
    {"reviewerID": user, "asin": item, "overall": stars, "summary": summary, "reviewText": text}
    for user, item, stars, summary, text in ROWS
]


@pytest.fixture(scope="module")
def reviews_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("magazines")
    write_jsonl(root / "catalogue" / "Magazine_Subscriptions_5.jsonl", MAGAZINE_REVIEWS)
    return root


@pytest.fixture(scope="module")
def index(reviews_only: Path) -> Iterator[KnowledgeIndex]:
    build_index(reviews_only / "catalogue", reviews_only / "index", HashingEmbedder())
    opened = open_index(reviews_only / "index", HashingEmbedder())
    yield opened
    opened.close()


def test_the_noun_most_reviews_point_at_is_the_name() -> None:
    texts = ["Love this magazine.", "The magazine arrives late.", "Great recipes in this magazine!", "Nice photos."]
    assert name_from_reviews(texts) == DerivedName(name="magazine", reviews=3, of=4)


def test_a_two_word_name_beats_its_head_word_when_as_many_reviews_use_it() -> None:
    texts = [
        "The sustain pedal works with my keyboard.",
        "I use the sustain pedal every day.",
        "This sustain pedal is sturdy. The pedal does not slide.",
        "The pedal squeaks a bit.",
    ]
    assert name_from_reviews(texts) == DerivedName(name="sustain pedal", reviews=3, of=4)


def test_opinion_words_stopwords_numbers_and_people_are_not_names() -> None:
    texts = [
        "This great value, the best, for my daughter. The 12 issues came. This is it.",
        "This great value and the best. My daughter loved the 12 issues. This is it.",
        "Again the best, this great value for my daughter; the 12 issues. This is it.",
    ]
    assert name_from_reviews(texts) is None


def test_no_name_when_no_phrase_is_shared_by_two_reviews() -> None:
    assert name_from_reviews(["I like this pedal.", "The cable is long.", "Arrived on time."]) is None
    assert name_from_reviews(["Good magazine!", "Good magazine!"]) is None  # one text twice is one reviewer's word
    assert name_from_reviews(["The only review of this pedal."]) == DerivedName(name="pedal", reviews=1, of=1)


def test_items_known_from_reviews_get_the_name_their_reviewers_use(reviews_only: Path) -> None:
    catalogue = load_catalogue(reviews_only / "catalogue")
    named, unnamed = catalogue.products[NAMED], catalogue.products[UNNAMED]
    assert (named.title, named.title_from) == ("Magazine", "reviews")
    assert (unnamed.title, unnamed.title_from) == (f"Item {UNNAMED}", "id")
    assert catalogue.report.notes["items named from their reviews"] == 1
    assert catalogue.report.notes["items with no name (known by their id alone)"] == 1


def test_a_metadata_row_with_no_title_is_named_from_its_reviews_too(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [{"asin": NAMED, "title": "<div>", "brand": "Meredith"}, {"asin": UNNAMED}])
    write_jsonl(tmp_path / "reviews.json", MAGAZINE_REVIEWS)
    products = load_catalogue(tmp_path).products
    assert (products[NAMED].title, products[NAMED].title_from, products[NAMED].brand) == (
        "Magazine",
        "reviews",
        "Meredith",
    )
    assert products[UNNAMED].title_from == "id"


def test_the_name_is_a_signal_unit_and_an_unnamed_item_has_no_title_unit(reviews_only: Path) -> None:
    units = {u.id: u for u in split_catalogue(load_catalogue(reviews_only / "catalogue"))}
    name = units[f"{NAMED}:sig:name"]
    assert (name.kind, name.field) == ("signal", "title")
    assert name.text == 'Reviewers call this item "magazine" (4 of its 9 reviews).'
    assert not [u for u in units.values() if u.item_id == UNNAMED and u.field == "title"]
    assert units[f"user:{SHOPPER}:hist:{NAMED}"].text == 'Reviewed "Magazine", rated 5/5'
    assert units[f"user:{SHOPPER}:hist:{UNNAMED}"].text == "Reviewed an item with no name, rated 5/5"
    assert not [u.text for u in units.values() if NAMED in u.text or UNNAMED in u.text]


def test_the_name_is_pinned_in_the_pairs_evidence_and_no_raw_id_is(index: KnowledgeIndex) -> None:
    evidence = PairRetriever(index, HashingEmbedder(), k=8).for_pair(SHOPPER, NAMED)
    ids = [e.id for e in evidence]
    assert f"{NAMED}:sig:name" in ids and f"user:{SHOPPER}:hist:{UNNAMED}" in ids
    assert not [e.text for e in evidence if NAMED in e.text or UNNAMED in e.text]
    other = PairRetriever(index, HashingEmbedder(), k=8).for_pair("A2BSKT65F16LAQ", UNNAMED)
    assert not [e.text for e in other if NAMED in e.text or UNNAMED in e.text]


def test_the_checker_reads_only_the_quoted_name_as_the_items_name(index: KnowledgeIndex) -> None:
    evidence = PairRetriever(index, HashingEmbedder(), k=8).for_pair(SHOPPER, NAMED)
    context = Context({e.id: e for e in evidence}, load_thresholds())
    assert context.title_stems == frozenset({"magazin"}) and context.title_numbers == frozenset()


@pytest.mark.parametrize(
    ("item", "shown"), [(NAMED, "Item: Magazine (name taken from its reviews)"), (UNNAMED, "Item: this item (no name")]
)
def test_the_prompt_names_the_item_without_its_id(index: KnowledgeIndex, item: str, shown: str) -> None:
    product = index.store.product(item)
    assert product is not None
    messages, _ = LLMComposer(FakeLLM(), load_prompt()).fit(DraftRequest(product=product, evidence=[]))
    request = messages[-1]["content"]
    assert shown in request and item not in request


def test_a_store_written_before_names_from_reviews_still_reads(index: KnowledgeIndex, tmp_path: Path) -> None:
    old = tmp_path / STORE_FILE
    old.write_bytes((index.path / STORE_FILE).read_bytes())
    with sqlite3.connect(old) as db:
        db.execute("ALTER TABLE products DROP COLUMN title_from")
    store = Store(old)
    try:
        product = store.product(NAMED)
        assert product is not None and (product.title, product.title_from) == ("Magazine", "seller")
    finally:
        store.close()


def test_the_proper_name_reviewers_write_names_the_item_with_its_kind() -> None:
    names = name_items(
        {
            "W": ["I have read Wired for years.", "This magazine is fun.", "Wired is good.",
                  "I think Wired and the magazine."],
            "X": ["This magazine is fun.", "The magazine is thin."],
            "N": ["We love National Geographic and the maps.", "National Geographic has the maps.",
                  "The maps in Geographic are stunning."],
            "P": ["The recipes are easy to follow.", "So many recipes here, as in Bon Appetit and Cook's Illustrated.",
                  "I buy Bon Appetit for the recipes."],
        }
    )  # fmt: skip
    # sentence-initial "Wired" is not counted: it could be any sentence's first word
    assert names["W"].proper == DerivedName("Wired", 2, 4) and names["W"].display == "Wired magazine"
    assert names["X"].proper is None and names["X"].display == "Magazine"
    # a longer name that holds the most used one stands in for it ("National" was cut by the sentence's start)
    assert names["N"].display == "National Geographic"
    # the kind is shown only when it is the kind most named items share
    assert names["P"].kind is not None and names["P"].kind.name == "recipes"
    assert names["P"].display == "Bon Appetit"


def test_a_proper_name_many_items_reviews_use_is_nobodys_and_headlines_and_months_are_not_names() -> None:
    texts = {f"I{n}": [f"Bought it on Amazon in March, item {n}.", f"It came via Amazon, {n}."] for n in range(5)}
    texts["H"] = ["Great Read For The Whole Family", "Great Read For The Whole Family, says the Times headline too."]
    names = name_items(texts)
    assert all(name.proper is None for name in names.values())


def test_the_name_unit_counts_each_name_the_reviewers_use() -> None:
    name = ItemName(proper=DerivedName("Wired", 2, 4), kind=DerivedName("magazine", 3, 4))
    product = Product(item_id="W", title=name.display, title_from="reviews")
    (unit,) = [u for u in product_units(product, "r.jsonl:1", name) if u.field == "title"]
    assert unit.text == 'Reviewers call this item "Wired" (2 of its 4 reviews) and "magazine" (3 of its 4 reviews).'
    assert product.title == "Wired magazine"


def test_two_items_never_share_a_proper_name() -> None:
    texts = {
        "A": ["I read EW every week.", "I love EW for the reviews.", "Weekly, EW is fun."],
        "B": ["Like EW but thinner.", "Same as EW really."],
    }
    names = name_items(texts)
    assert names["A"].proper is not None and names["A"].proper.name == "EW"
    assert "B" not in names or names["B"].proper is None
