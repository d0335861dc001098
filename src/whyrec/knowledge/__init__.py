"""Catalogue loading, evidence splitting and the embedded SQLite store."""

from whyrec.knowledge.catalogue import Catalogue, catalogue_sha256, load_catalogue
from whyrec.knowledge.reader import LoadReport
from whyrec.knowledge.split import split_catalogue, split_sentences
from whyrec.knowledge.store import Store

__all__ = [
    "Catalogue",
    "LoadReport",
    "Store",
    "catalogue_sha256",
    "load_catalogue",
    "split_catalogue",
    "split_sentences",
]
