"""Topic router: the question's embedding against each published adapter's centroid (its facts and their
questions), top-k with a margin. Scores are returned so they can be logged and evaluated."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from consolidation.synth import questions_for
from memory_service.embed import Embedder
from memory_service.registry import AdapterRef, Registry
from memory_service.schemas import Fact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    ref: AdapterRef
    score: float


def choose(scores: list[tuple[AdapterRef, float]], *, min_score: float, margin: float, max_k: int) -> list[Route]:
    """Pure routing rule: the best adapter alone when it leads by `margin`, else up to `max_k` within the
    margin of the best (they get merged); nothing below `min_score`."""
    ranked = sorted((s for s in scores if s[1] >= min_score), key=lambda s: -s[1])
    if not ranked:
        return []
    best = ranked[0][1]
    if len(ranked) == 1 or best - ranked[1][1] >= margin:
        return [Route(*ranked[0])]
    return [Route(ref, sc) for ref, sc in ranked[:max_k] if best - sc < margin]


def centroid_texts(facts: list[Fact]) -> list[str]:
    """What a topic's centroid averages: its facts, and the questions they are taught with (those look like the
    questions the topic will be asked)."""
    return [f.text for f in facts] + [q for f in facts if f.subject and f.relation for q in questions_for(f)[:-1]]


def manifest_facts(ref: AdapterRef) -> list[Fact]:
    """The facts an adapter version was trained on, as its manifest lists them."""
    return [Fact(id=f["id"], namespace=ref.namespace, topic=ref.topic, text=f["text"], subject=f.get("subject"),
                 relation=f.get("relation"), object=f.get("object"), created_at="1970-01-01T00:00:00Z")
            for f in ref.manifest().get("facts", [])]


class Router:
    def __init__(self, registry: Registry, embedder: Embedder, min_score: float = 0.25, margin: float = 0.05,
                 max_k: int = 3):
        self.registry, self.embedder = registry, embedder
        self.min_score, self.margin, self.max_k = min_score, margin, max_k
        # AdapterRef.name (versions are immutable) or a fact-set key -> unit vector
        self._centroids: dict = {}

    def _centroid(self, key, facts: Callable[[], list[Fact]]) -> np.ndarray:
        """The unit mean of `centroid_texts(facts())`, computed once per key."""
        if key not in self._centroids:
            texts = centroid_texts(facts())
            vecs = self.embedder.embed(texts) if texts else np.zeros((1, self.embedder.dim), np.float32)
            c = vecs.mean(0)
            self._centroids[key] = c / (np.linalg.norm(c) or 1.0)
        return self._centroids[key]

    def centroid(self, ref: AdapterRef) -> np.ndarray:
        return self._centroid(ref.name, lambda: manifest_facts(ref))  # versions are immutable: name is the key

    def facts_centroid(self, key: tuple, facts: list[Fact]) -> np.ndarray:
        """The same centroid for short-term facts that no usable adapter holds (cached by `key`), so a topic
        without an adapter is scored like one with."""
        return self._centroid(key, lambda: facts)

    def score(self, vector: np.ndarray, refs: list[AdapterRef]) -> list[tuple[AdapterRef, float]]:
        return [(ref, float(np.dot(self.centroid(ref), vector))) for ref in refs]

    def route(self, vector: np.ndarray, refs: list[AdapterRef]) -> tuple[list[Route], list[tuple[str, float]]]:
        scores = self.score(vector, refs)
        chosen = choose(scores, min_score=self.min_score, margin=self.margin, max_k=self.max_k)
        log.info("route: %s", [(r.ref.name, round(r.score, 3)) for r in chosen])
        return chosen, sorted(((r.name, round(s, 4)) for r, s in scores), key=lambda x: -x[1])
