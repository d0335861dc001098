"""Language models: the LLM seam, llama.cpp and a fake, and the registry of packaged GGUF models."""

from whyrec.llm.base import LLM, ChatMessage, Generation, JsonSchema
from whyrec.llm.models import DEFAULT_MODEL, REGISTRY, ModelFile, ModelSpec, ModelStore

__all__ = [
    "DEFAULT_MODEL",
    "LLM",
    "REGISTRY",
    "ChatMessage",
    "Generation",
    "JsonSchema",
    "ModelFile",
    "ModelSpec",
    "ModelStore",
]
