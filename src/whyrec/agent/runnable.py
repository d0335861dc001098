"""The explain pipeline as a LangChain Runnable, so it composes with `|`, `.batch` and callbacks in a LangChain app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel, ConfigDict, Field

from whyrec.schema import Explanation

if TYPE_CHECKING:
    from whyrec.agent.explain import Explainer


class ExplainInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    question: str | None = None
    k: int | None = Field(default=None, ge=1, le=100)


def explain_runnable(explainer: Explainer) -> RunnableLambda[Any, Explanation]:
    def run(value: ExplainInput | dict[str, Any]) -> Explanation:
        request = value if isinstance(value, ExplainInput) else ExplainInput.model_validate(value)
        return explainer.explain(request.user_id, request.item_id, question=request.question, k=request.k)

    return RunnableLambda(run, name="whyrec.explain")
