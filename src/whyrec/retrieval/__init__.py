"""Embeddings, the index (store + vectors + global search), per-pair evidence retrieval and its LangChain face."""

from whyrec.retrieval.build import add_to_index, build_index
from whyrec.retrieval.embedder import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from whyrec.retrieval.index import KnowledgeIndex, open_index
from whyrec.retrieval.pair import PairRetriever

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "KnowledgeIndex",
    "PairRetriever",
    "SentenceTransformerEmbedder",
    "add_to_index",
    "build_index",
    "open_index",
]
