"""Topic router: the question's embedding against each published adapter's texts (its facts and the questions it
was taught), scored by the texts nearest the question, top-k with a margin. Scores are returned so they can be
logged and evaluated."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from consolidation.synth import questions_for
from memory_service.adapter_files import AdapterRef
from memory_service.embed import Embedder
from memory_service.registry import Registry
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


NEAREST = 3  # texts of a topic that score a question


def routing_texts(facts: list[Fact]) -> list[str]:
    """What a topic is matched on: its facts, and the questions they are taught with (those look like the
    questions the topic will be asked)."""
    return [f.text for f in facts] + [q for f in facts if f.subject and f.relation for q in questions_for(f)[:-1]]


def topic_score(texts: np.ndarray, vector: np.ndarray, k: int = NEAREST) -> float:
    """Mean cosine of the topic's `k` texts nearest the question (unit rows). A question asks about one fact,
    and a mean over the whole topic (a centroid) drowns it among the others: on the natural scenario's probes
    the nearest texts pick the topic that holds the answer 62 times in 70, the centroid 49
    (`python -m bench.routing`, routing.json). Three, not one, so one stray match of a question about
    something else counts for a third."""
    if not len(texts):
        return -1.0
    sims = texts @ vector
    k = min(k, len(sims))
    return float(np.partition(sims, len(sims) - k)[-k:].mean())


def manifest_facts(ref: AdapterRef) -> list[Fact]:
    """The facts an adapter version was trained on, as its manifest lists them."""
    return [Fact(id=f["id"], namespace=ref.namespace, topic=ref.topic, text=f["text"], subject=f.get("subject"),
                 relation=f.get("relation"), object=f.get("object"), created_at="1970-01-01T00:00:00Z")
            for f in ref.manifest().get("facts", [])]


class Router:
    def __init__(self, registry: Registry, embedder: Embedder, min_score: float = 0.35, margin: float = 0.05,
                 max_k: int = 3):
        self.registry, self.embedder = registry, embedder
        self.min_score, self.margin, self.max_k = min_score, margin, max_k
        # AdapterRef.name (versions are immutable) or a fact-set key -> unit rows of its routing texts
        self._texts: dict = {}
        self._slots: dict = {}  # (kind, namespace, topic) -> the one key kept for it

    def _vectors(self, slot: tuple, key, facts: Callable[[], list[Fact]]) -> np.ndarray:
        """`routing_texts(facts())` embedded, once per key. One key per slot is kept: a new adapter version or a
        changed fact set of a topic replaces the old one, so a long-lived process holds one matrix per topic."""
        if key not in self._texts:
            old = self._slots.get(slot)
            if old is not None and old != key:
                self._texts.pop(old, None)
            self._texts[key] = self.embedder.embed(routing_texts(facts()))
            self._slots[slot] = key
        return self._texts[key]

    def vectors(self, ref: AdapterRef) -> np.ndarray:
        # versions are immutable: the name is the key
        return self._vectors(("adapter", ref.namespace, ref.topic), ref.name, lambda: manifest_facts(ref))

    def facts_score(self, key: tuple, facts: list[Fact], vector: np.ndarray) -> float:
        """The same score for short-term facts that no usable adapter holds (embedded once per `key`, whose
        first two items are the namespace and topic), so a topic without an adapter is scored like one with."""
        return topic_score(self._vectors(("facts", *key[:2]), key, lambda: facts), vector)

    def score(self, vector: np.ndarray, refs: list[AdapterRef]) -> list[tuple[AdapterRef, float]]:
        return [(ref, topic_score(self.vectors(ref), vector)) for ref in refs]

    def route(self, vector: np.ndarray, refs: list[AdapterRef]) -> tuple[list[Route], list[tuple[str, float]]]:
        scores = self.score(vector, refs)
        chosen = choose(scores, min_score=self.min_score, margin=self.margin, max_k=self.max_k)
        log.info("route: %s", [(r.ref.name, round(r.score, 3)) for r in chosen])
        return chosen, sorted(((r.name, round(s, 4)) for r, s in scores), key=lambda x: -x[1])
