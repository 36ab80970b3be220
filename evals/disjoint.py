"""Whether an evaluation question is worded apart from what consolidation trains, by meaning, not by string.

A probe that says a trained question's words in another order ("Jilbror plays which instrument?" and "Which
instrument does Jilbror play?"), or with a filler added ("And which instrument does Jilbror play, then?"), asks the
adapter its own training question; a recall figure on such probes is taught recall, not knowledge. Two tests:

- the same words in any order (`wording`): Porter stems, with contractions spelled out and the words that only
  carry grammar or fill ("do", "is", "the", "of", "it", "that", "and", "then") aside;
- cosine of the packaged embedder at least NEAR between the two with the names they share masked (`frame`): names
  dominate a short question's embedding, so unmasked every question about "Jilbror Fonlix" is near every other.

NEAR = 0.95 comes from bench.disjoint over the bundled scenarios and bench.consolidate's question sets
(bench/results/disjoint.json): with names masked, word-order echoes score 0.95 and above ("Where do we go skiing
every winter?" / "Every winter we go skiing where?", 0.953), and the nearest rewording that changes a word of
substance 0.939 ("What's Jorund's sister called?" / "What is the name of Jorund's sister?"). A synonym swapped
in a kept frame scores lower still ("Which town does someone live in?" / "Which city ...", 0.877): this check
counts it as worded apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from language.lexicon import QUESTION_FILLERS
from language.matching import _stem

NEAR = 0.95
CONTRACTED = {"'s": " is", "'m": " am", "'re": " are", "n't": " not"}


@dataclass(frozen=True)
class Clash:
    probe: str
    synthesized: str
    cosine: float
    same_words: bool


def wording(question: str) -> frozenset[str]:
    """The words a question says, order aside: "Jilbror plays which instrument?" and "Which instrument does
    Jilbror play?" are {jilbror, play, which, instrument}. A possessive "'s" and "is" are both grammar here."""
    text = question.lower().replace("\u2019", "'")
    for short, long in CONTRACTED.items():
        text = text.replace(short, long)
    return frozenset(_stem(w) for w in re.findall(r"[a-z0-9]+", text) if w not in QUESTION_FILLERS)


def frame(question: str, names: set[str]) -> str:
    """The question with the names in `names` masked: "Which town is Ann Voss living in?" -> "Which town is
    someone living in?"."""
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    out = re.sub(rf"\b(?:{alternatives})\b", "someone", question) if names else question
    return re.sub(r"someone(?:\s+someone)+", "someone", out)


def names_in(question: str) -> set[str]:
    """Capitalised words past the first, "I" aside: the names a question says."""
    return {w for w in re.findall(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w-]*", question) if w != "I"}


def clashes(probes: list[str], synthesized: list[str], embed, near: float = NEAR) -> list[Clash]:
    """The probes that are a synthesized question in other words: the same words in any order, or at least `near`
    by cosine once the names are masked (`embed(texts)` gives unit vectors, memory_service.embed.Embedder.embed),
    each with the question it echoes."""
    if not probes or not synthesized:
        return []
    names = set().union(*map(names_in, probes), *map(names_in, synthesized))
    sims = embed([frame(p, names) for p in probes]) @ embed([frame(q, names) for q in synthesized]).T
    # masked, "What does Uncle Anselm do?" reads as "What does Gran Nessa do?": only a question about the same
    # names can echo
    said = lambda q: frozenset(w for w in names if re.search(rf"\b{re.escape(w)}\b", q))  # noqa: E731
    theirs = [said(q) for q in synthesized]
    sims = np.where([[mine == t for t in theirs] for mine in map(said, probes)], sims, -1.0)
    bags = {wording(q): q for q in synthesized}
    found = []
    for i, probe in enumerate(probes):
        j = int(sims[i].argmax())
        same = bags.get(wording(probe))
        if same is not None or sims[i, j] >= near:
            found.append(Clash(probe, same or synthesized[j], round(float(sims[i, j]), 3), same is not None))
    return found
