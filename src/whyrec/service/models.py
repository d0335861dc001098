"""The API's request and response bodies (the OpenAPI schema is made from these)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from whyrec.agent.intents import MAX_MESSAGE_CHARS
from whyrec.schema import Preferences

ID = Field(min_length=1, max_length=200)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExplainBody(_Body):
    user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Omit for a new shopper: the item's evidence alone."
    )
    item_id: str = ID
    question: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    k: int | None = Field(default=None, ge=1, le=100)


class ChatBody(_Body):
    """Start a session with `user_id` and `item_id`, then continue it with `session_id`. Giving another `item_id`
    with a session moves the conversation to that item."""

    # The schema says it too, so that clients (and schemathesis) know a body needs one or the other.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["session_id"], "properties": {"session_id": {"type": "string"}}},
                {
                    "required": ["user_id", "item_id"],
                    "properties": {"user_id": {"type": "string"}, "item_id": {"type": "string"}},
                },
            ]
        },
    )

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    item_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _session_or_pair(self) -> ChatBody:
        if self.session_id is None:
            self.pair()
        return self

    def pair(self) -> tuple[str, str]:
        if self.user_id is None or self.item_id is None:
            raise ValueError("a new chat needs user_id and item_id (or give a session_id)")
        return self.user_id, self.item_id


class FeedbackReceipt(BaseModel):
    id: int
    preferences: Preferences | None = Field(default=None, description="The session's preferences after this feedback.")


class ItemRef(BaseModel):
    item_id: str
    title: str
    rating: float | None = None


class UserView(BaseModel):
    user_id: str
    history: list[ItemRef] = Field(description="Items the user bought or reviewed, latest first.")
    aspects: list[str] = Field(description="What the user wrote about most in their reviews.")
    items: list[ItemRef] = Field(description="Other items to ask about, closest to what the user writes about first.")


class UserList(BaseModel):
    users: list[str]
    total: int


class SessionView(BaseModel):
    session_id: str
    user_id: str
    item_id: str
    turns: int
    preferences: Preferences
    transcript: list[dict[str, str]]


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    ready: bool
    index: str
    composer: str
    model: str
    sessions: int


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
