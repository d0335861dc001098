"""Embeddings, the FAISS index, per-pair evidence retrieval and its LangChain face."""

from whyrec.retrieval.embedder import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from whyrec.retrieval.index import KnowledgeIndex, build_index, open_index
from whyrec.retrieval.pair import PairRetriever

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "KnowledgeIndex",
    "PairRetriever",
    "SentenceTransformerEmbedder",
    "build_index",
    "open_index",
]
