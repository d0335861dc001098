"""Chat about one recommendation: "why this?", "what about the design?", "what do people dislike?", "compare it with
…", "show sources", "I don't care about price".

A session holds the user, the current item, the user's stated preferences, what was already cited and a bounded
LangChain message history. Every answer that says something about a product goes through the explain loop
(retrieval → LLM → checker), so a chat reply holds only checked, cited claims, whatever the message asked for.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, trim_messages

from whyrec.agent.explain import CheckedListener, EvidenceFilters, Explainer, Progress, no_progress
from whyrec.agent.intents import MAX_MESSAGE_CHARS, Reading, read_message
from whyrec.agent.preferences import record_feedback, updated
from whyrec.errors import WhyrecError
from whyrec.feedback import MAX_FEEDBACK_CHARS, Feedback, FeedbackStore
from whyrec.knowledge import Store
from whyrec.knowledge.sentiment import polarity
from whyrec.knowledge.text import content_words
from whyrec.schema import ChatAnswer, ChatIntent, Evidence, Explanation, Preferences, SpecPair

MAX_MESSAGES = 20  # kept in a session's history: ten exchanges
KEPT_TURNS = 20  # turns whose explanations a session keeps, for feedback on them
COMPLAINT_RATING = 3.0  # a review at or below this many stars counts as a complaint
COMPLAINT_POLARITY = -0.05  # VADER compound at or below this marks a complaining sentence in a kinder review
COMPARED_FIELDS = ("title", "price", "brand", "category")
_COMPLAINT_WORDS = re.compile(
    r"\b(?:but|however|only|wish|unfortunately|downside|problem|issue|disappoint\w*|broke\w*|fail\w*|never|"
    r"didn'?t|did not|doesn'?t work|does not work|wasn'?t|won'?t|can'?t|return\w*|refund\w*|waste|poor|bad|worst)\b",
    re.I,
)
Reply = Callable[..., ChatAnswer]


@dataclass
class ChatSession:
    """One conversation: who, about which item, what they told us, and what was said."""

    id: str
    user_id: str
    item_id: str
    preferences: Preferences = field(default_factory=Preferences)
    history: list[BaseMessage] = field(default_factory=list)
    turns: int = 0
    last: ChatAnswer | None = None  # the last answer that explained something
    asked: tuple[str, Reading] | None = None  # the last question about the item, asked again after feedback
    compared: str | None = None  # the last item compared with, for "and compared with that one?"
    shown: set[str] = field(default_factory=set)  # evidence ids cited about the current item
    explained: dict[int, list[Explanation]] = field(default_factory=dict)  # the last turns' reasons, for feedback

    def explanation_at(self, turn: int, item_id: str) -> Explanation | None:
        """The reason about `item_id` given at `turn`, if that turn is still kept (the last KEPT_TURNS)."""
        return next((e for e in self.explained.get(turn, []) if e.item_id == item_id), None)

    def transcript(self) -> list[dict[str, str]]:
        return [{"role": "user" if m.type == "human" else "assistant", "text": str(m.content)} for m in self.history]


def _complaint(unit: Evidence) -> bool:
    """A review sentence that complains: from a low-star review, or one VADER reads as negative that also uses a
    complaint word (VADER alone calls "Who doesn't love these cards!" negative)."""
    if unit.kind != "review":
        return unit.kind == "spec" and unit.field == "title"  # the title lets a reply say which item it is about
    if unit.rating is not None and unit.rating <= COMPLAINT_RATING:
        return True
    return polarity(unit.text) <= COMPLAINT_POLARITY and bool(_COMPLAINT_WORDS.search(unit.text))


def _feedback_on(session: ChatSession, message: str, about: ChatAnswer | None) -> tuple[Feedback, Explanation | None]:
    """A feedback message as a Feedback record, linked to the reason it is about (the last answer's, if it explained
    the session's item)."""
    explanation = session.explanation_at(about.turn, session.item_id) if about is not None else None
    feedback = Feedback(
        user_id=session.user_id,
        item_id=session.item_id,
        session_id=session.id,
        text=message[:MAX_FEEDBACK_CHARS],
        turn=about.turn if about is not None and explanation is not None else None,
    )
    return feedback, explanation


def _cited(explanations: list[Explanation]) -> list[str]:
    return list(dict.fromkeys(c for e in explanations for claim in e.claims for c in claim.cites))


class Chat:
    """Answers chat messages within sessions. Not thread-safe: the service serialises calls."""

    def __init__(self, explainer: Explainer, max_messages: int = MAX_MESSAGES, feedback: FeedbackStore | None = None):
        """With a `feedback` store, a session starts with what the user said in earlier feedback, and feedback said
        in the chat ("I don't care about price") is stored, linked to the reason it is about, and kept for the
        user's next sessions."""
        self.explainer = explainer
        self.max_messages = max_messages
        self.feedback = feedback
        self._progress: Progress = no_progress  # the current ask's listener (calls are serialised)
        self._on_claim: CheckedListener | None = None  # and the one that hears each checked claim early

    @property
    def store(self) -> Store:
        return self.explainer.index.store

    def start(self, user_id: str, item_id: str, session_id: str | None = None) -> ChatSession:
        """A new session about (user, item); unknown ids raise UnknownIdError."""
        self.explainer.retriever.check_pair(user_id, item_id)
        session = ChatSession(id=session_id or secrets.token_urlsafe(12), user_id=user_id, item_id=item_id)
        if self.feedback is not None:
            session.preferences = self.feedback.preferences(user_id)  # what they said before
        return session

    def switch(self, session: ChatSession, item_id: str) -> None:
        """Talk about another item from now on (the preferences stay, the question starts over)."""
        self.explainer.retriever.check_pair(session.user_id, item_id)
        session.item_id, session.asked, session.shown, session.last = item_id, None, set(), None

    def ask(
        self,
        session: ChatSession,
        message: str,
        progress: Progress = no_progress,
        on_claim: CheckedListener | None = None,
    ) -> ChatAnswer:
        """Answer one message; `progress` hears each stage of each explanation as it starts, `on_claim` each claim
        an explanation will hold as soon as the checker accepts it (`Explainer.explain`)."""
        message = " ".join(message.split())
        if not message:
            raise WhyrecError("the message is empty")
        if len(message) > MAX_MESSAGE_CHARS:
            raise WhyrecError(f"the message is {len(message):,} characters; the limit is {MAX_MESSAGE_CHARS:,}")
        reading = read_message(message)
        self._progress, self._on_claim = progress, on_claim
        about = session.last  # what feedback in this message is about
        try:
            answer = self._answer(session, message, reading)
        finally:
            self._progress, self._on_claim = no_progress, None
        if reading.intent == "feedback" and self.feedback is not None:
            record_feedback(self.feedback, *_feedback_on(session, message, about))
        session.turns += 1
        answer = answer.model_copy(update={"turn": session.turns})
        if answer.explanations:
            session.last = answer
            session.shown.update(_cited(answer.explanations[:1]))
            session.explained[session.turns] = list(answer.explanations)
            for old_turn in [t for t in session.explained if t <= session.turns - KEPT_TURNS]:
                del session.explained[old_turn]
        session.history = trim_messages(
            [*session.history, HumanMessage(message), AIMessage(answer.text)],
            max_tokens=self.max_messages,
            token_counter=len,  # counts messages: the history keeps the last `max_messages`
            strategy="last",
            start_on="human",
        )
        return answer

    def _answer(self, session: ChatSession, message: str, reading: Reading) -> ChatAnswer:
        def reply(
            intent: ChatIntent,
            text: str,
            explanations: Sequence[Explanation] = (),
            comparison: Sequence[SpecPair] = (),
            sources: Sequence[Evidence] = (),
            note: str | None = None,
        ) -> ChatAnswer:
            return ChatAnswer(
                session_id=session.id,
                turn=0,
                user_id=session.user_id,
                item_id=session.item_id,
                message=message,
                intent=intent,
                text=text,
                explanations=list(explanations),
                comparison=list(comparison),
                sources=list(sources),
                note=note,
                preferences=session.preferences,
            )

        if reading.intent == "sources":
            if session.last is None or not session.last.explanations:
                nothing = "Nothing has been explained yet: ask why this item was recommended."
                return reply("sources", nothing, note=nothing)
            # In order of first citation, so that source n is the answer's [n].
            by_id = {e.id: e for x in session.last.explanations for e in x.evidence}
            units = [by_id[c] for c in _cited(session.last.explanations) if c in by_id]
            said = f"The last answer rests on {_units(len(units))}."
            return reply("sources", said, sources=units, note=said)

        if reading.intent == "feedback":  # noted, then the last question about the item answered again
            note = self._take_feedback(session, reading)
            again = self._about_item(session, *(session.asked or (message, Reading("why"))), reply)
            said = f"{note} {again.note}" if again.note else note
            return reply("feedback", f"{note} {again.text}", again.explanations, note=said)

        if reading.intent == "compare":
            return self._compare(session, reading, reply)

        if reading.intent == "more":  # the last question again, citing only what was not cited yet
            again = self._about_item(session, *(session.asked or (message, Reading("why"))), reply, new_only=True)
            return reply("more", again.text, again.explanations, note=again.note)

        session.asked = (message, reading)
        return self._about_item(session, message, reading, reply)

    def _about_item(
        self, session: ChatSession, message: str, reading: Reading, reply: Reply, new_only: bool = False
    ) -> ChatAnswer:
        """Answer a why / aspect / dislikes question about the session's item."""
        question = message if reading.intent in ("aspect", "dislikes") else None
        complaints = reading.intent == "dislikes"
        shown = set(session.shown) if new_only else set()

        def keep(unit: Evidence) -> bool:
            new = unit.id not in shown or unit.field == "title"
            return new and (_complaint(unit) if complaints else True)

        filters = EvidenceFilters(
            session.preferences,
            keep=keep if complaints or shown else None,
            widen=12 if complaints else 3,  # complaints are few: look through more of the item's reviews
        )
        if complaints:
            evidence = self.explainer.evidence(session.user_id, session.item_id, question, filters=filters)
            if not any(e.kind == "review" for e in evidence):
                none = "None of the reviews retrieved for this item complain about anything."
                return reply(reading.intent, none, note=none)
        explanation = self._explain(session, question, filters)
        return reply(reading.intent, explanation.reason, [explanation])

    def note(self, session: ChatSession, text: str) -> bool:
        """Take feedback text given outside the chat (a thumbs-down comment); True if it changed the preferences."""
        reading = read_message(" ".join(text.split())[:MAX_MESSAGE_CHARS])
        if reading.intent != "feedback":
            return False
        self._take_feedback(session, reading)
        return True

    def _take_feedback(self, session: ChatSession, reading: Reading) -> str:
        """Update the session's preferences from a feedback message; return what was noted, in words."""
        excluded: list[str] = []
        if reading.not_relevant and session.last is not None:
            evidence = {e.id: e for x in session.last.explanations for e in x.evidence}
            # the item's title only says which item it is: never "not relevant" for good
            excluded = [c for c in _cited(session.last.explanations) if evidence[c].field != "title"]
        session.preferences = updated(session.preferences, focus=reading.focus, avoid=reading.avoid, exclude=excluded)
        return _feedback_note(reading, len(excluded))

    def _explain(
        self,
        session: ChatSession,
        question: str | None,
        filters: EvidenceFilters | None = None,
        item_id: str | None = None,
    ) -> Explanation:
        """Explain with the session's preferences (and `filters`, which carry them); asked-for aspects lead."""
        if question is None and session.preferences.focus:
            question = ", ".join(session.preferences.focus)
        filters = filters or EvidenceFilters(session.preferences)
        item = item_id or session.item_id
        return self.explainer.explain(
            session.user_id, item, question, filters=filters, progress=self._progress, on_claim=self._on_claim
        )

    def _compare(self, session: ChatSession, reading: Reading, reply: Reply) -> ChatAnswer:
        other = self.find_item(reading.other, exclude=session.item_id) or (
            session.compared if reading.other is None or _is_reference(reading.other) else None
        )
        if other is None:
            wanted = f" {reading.other!r}" if reading.other else ""
            which = f"Which item should I compare with{wanted}? Name it by its id or by words from its title."
            return reply("compare", which, note=which)
        session.compared = other
        this = self._explain(session, None)  # why each item suits the user, from the same kind of evidence
        that = self._explain(session, None, item_id=other)
        titles = self.store.titles()
        text = f"{titles[session.item_id]}: {this.reason}\n{titles[other]}: {that.reason}"
        return reply("compare", text, [this, that], comparison=self.spec_pairs(session.item_id, other))

    def find_item(self, words: str | None, exclude: str | None = None) -> str | None:
        """The item a phrase names: an item id in it, else the title sharing the most words with it."""
        if not words:
            return None
        titles = {item: title for item, title in self.store.titles().items() if item != exclude}
        by_id = {item.lower(): item for item in titles}
        for token in words.replace(",", " ").split():
            if token.lower().strip("?.!'\"") in by_id:
                return by_id[token.lower().strip("?.!'\"")]
        wanted = content_words(words) - {"one", "item", "product", "other"}
        if not wanted:
            return None
        scored = [(len(wanted & content_words(title)) / len(wanted), item) for item, title in titles.items()]
        score, item = max(scored, default=(0.0, ""))
        return item if score >= 0.5 else None

    def spec_pairs(self, item_id: str, other_id: str) -> list[SpecPair]:
        """The two items' seller facts side by side: the common fields first, then the other shared ones."""

        def specs(item: str) -> dict[str, Evidence]:
            units = self.store.spec_units(item)
            return {u.field or u.id: Evidence(**u.model_dump(), score=1.0, rank=n) for n, u in enumerate(units, 1)}

        this, that = specs(item_id), specs(other_id)
        shared = [f for f in this if f in that and f not in COMPARED_FIELDS]
        fields = [f for f in COMPARED_FIELDS if f in this or f in that] + shared
        return [SpecPair(field=f, this=this.get(f), other=that.get(f)) for f in fields]


def _units(n: int) -> str:
    return f"{n} evidence unit" if n == 1 else f"{n} evidence units"


def _is_reference(words: str) -> bool:
    return set(words.lower().split()) <= {"that", "one", "it", "the", "other", "item", "this"}


def _feedback_note(reading: Reading, excluded: int) -> str:
    parts = []
    if reading.avoid:
        parts.append(f"you don't care about {', '.join(reading.avoid)}")
    if reading.focus:
        parts.append(f"you care about {', '.join(reading.focus)}")
    if reading.not_relevant:
        parts.append(
            f"the evidence behind the last answer ({_units(excluded)}) was not relevant"
            if excluded
            else "that was not relevant"
        )
    return f"Noted: {'; '.join(parts)}."
