"""Topic assignment: explicit, else the nearest centroid above a threshold, else a new topic. Pure logic."""

from __future__ import annotations

import re

import numpy as np

from language.lexicon import FAMILY_WORDS, TOPIC_STOPWORDS, WORK_WORDS


def topic_of_relation(subject: str | None, relation: str | None, owner: str = "the user") -> str | None:
    """The fixed topic of a fact about the person speaking (`owner`: the user, or a transcript's named speaker):
    "family", "work" or "life", prefixed with a named speaker's slug ("caroline-work"); None for anyone else's."""
    if not subject or subject != owner or not relation:
        return None
    head = relation.split(" at ")[0].split(" from ")[0].strip()
    area = "life"
    if head in FAMILY_WORDS or head.split()[-1] in FAMILY_WORDS:
        area = "family"
    elif head in WORK_WORDS or head.split()[-1] in WORK_WORDS:
        area = "work"
    return area if owner == "the user" else f"{slugify(owner)}-{area}"


def home_topic(owner: str = "the user") -> str:
    """Where a statement goes when nothing in it names an area: the speaker's own "life" topic. One home per
    speaker, not a topic per sentence: many one-fact adapters are slow to train and hard to route to, and the
    relay already splits a topic that outgrows one adapter into shards of similar facts."""
    return "life" if owner == "the user" else f"{slugify(owner)}-life"


class Centroids:
    """Running sums of unit vectors per topic of one namespace; cosine against their normalised mean."""

    def __init__(self, dim: int):
        self.dim = dim
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}

    def add(self, topic: str, vector: np.ndarray, sign: int = 1) -> None:
        self.sums.setdefault(topic, np.zeros(self.dim, dtype=np.float64))
        self.sums[topic] += sign * np.asarray(vector, dtype=np.float64)
        self.counts[topic] = self.counts.get(topic, 0) + sign
        if self.counts[topic] <= 0:
            del self.sums[topic], self.counts[topic]

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        if not self.sums:
            return {}
        sums = np.stack(list(self.sums.values()))  # one matrix product, not a norm per topic (batched writes)
        norms = np.linalg.norm(sums, axis=1)
        cos = sums @ np.asarray(vector, dtype=np.float64) / np.where(norms > 0, norms, 1.0)
        return {t: float(c) for t, c, n in zip(self.sums, cos, norms) if n > 0}

    def nearest(self, vector: np.ndarray, threshold: float) -> str | None:
        scores = self.scores(vector)
        if not scores:
            return None
        topic = max(scores, key=scores.__getitem__)
        return topic if scores[topic] >= threshold else None


def slugify(text: str, max_words: int = 3) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in TOPIC_STOPWORDS]
    slug = "-".join(words[:max_words])[:56].strip("-")
    return slug or "general"


def new_topic_name(text: str, taken: set[str], subject: str | None = None) -> str:
    base = slugify(subject or text)
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name
