"""The per-pair retriever as a LangChain `BaseRetriever`: the query string is the user's question."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from whyrec.retrieval.pair import PairRetriever


class EvidenceRetriever(BaseRetriever):
    """Evidence for one user–item pair; an empty query ranks by the user's own interests."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pair_retriever: PairRetriever
    user_id: str
    item_id: str
    k: int = 12

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        evidence = self.pair_retriever.for_pair(self.user_id, self.item_id, question=query.strip() or None, k=self.k)
        return [
            Document(
                id=e.id,
                page_content=e.text,
                metadata={
                    "id": e.id,
                    "kind": e.kind,
                    "speaker": e.speaker,
                    "score": e.score,
                    "rank": e.rank,
                    "item_id": e.item_id,
                    "user_id": e.user_id,
                    "source_ref": e.source_ref,
                },
            )
            for e in evidence
        ]
