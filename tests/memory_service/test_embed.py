"""The embedder's ONNX backend (the default) against the torch one it was exported from."""

from __future__ import annotations

import warnings

import numpy as np

from memory_service.embed import Embedder

TEXTS = ["My dentist Ada Brennock can be reached at 415-555-0192.", "Hi!", "Où est la gare ?",
         "Zorbit Quell lives in Varkaus and drives a red Halvik coupe every winter.",
         " ".join(["a long statement that runs past the model's 256-token limit"] * 60), "42", "🙂 emoji only",
         "The user moved to Arlow Point last week."]


def test_onnx_vectors_match_the_torch_ones(tmp_path, embedder):
    reference = Embedder("packaged", threads=2, backend="torch")
    assert embedder.backend == "onnx" and reference.backend == "torch"
    got, want = embedder.embed(TEXTS), reference.embed(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), embedder.dim) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * want).sum(axis=1).min()) > 0.999
    # batches of mixed lengths are put back in input order
    assert np.allclose(embedder.embed(TEXTS[::-1])[::-1], got, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_the_export_is_cached_and_reused(tmp_path):
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        first = Embedder("packaged", threads=1, backend="onnx", cache_dir=tmp_path)
    assert [str(w.message)[:80] for w in shown] == []  # the first use is quiet: the exporter's notices are not
    (exported,) = tmp_path.glob("embedder-*.onnx")
    stamp = exported.stat().st_mtime_ns
    second = Embedder("packaged", threads=1, backend="onnx", cache_dir=tmp_path)
    assert list(tmp_path.glob("embedder-*.onnx")) == [exported] and exported.stat().st_mtime_ns == stamp
    assert np.allclose(first.embed(TEXTS[:2]), second.embed(TEXTS[:2]))
    assert not list(tmp_path.glob("*.tmp-*"))  # no half-written export left behind
