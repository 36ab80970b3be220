"""Answer scoring: does an answer state the expected answer? Pure functions on strings.

Matching is language.matching (the recall gate uses the same): normalized token spans, no credit for a
negated mention ("Not Porvoo."), and none when another candidate value for the question appears too (a listed
or hedged answer: "Varkaus, Porvoo or Ostrava").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from language.matching import mentions, normalize, states  # noqa: F401  (normalize: the evals' helpers)

# Probes whose expected answers must NOT appear: a pass is an answer that names none of them.
LEAK_TAGS = frozenset({"deleted", "other-namespace"})


def correct(answer: str, expect: Iterable[str], aliases: Iterable[str] = (), reject: Iterable[str] = ()) -> bool:
    """True when the answer states an expected answer or alias and no `reject` value."""
    return states(answer, (*expect, *aliases), reject)


@dataclass(frozen=True)
class Score:
    correct: bool  # the probe passes (for leak tags: nothing forbidden was said)
    answered: bool  # an expected answer or alias appears in the answer (for leak tags: the leak)


def score(tag: str, answer: str, expect: Iterable[str], aliases: Iterable[str] = (),
          reject: Iterable[str] = ()) -> Score:
    """Score one probe answer. For deleted/other-namespace probes `expect` lists what must not appear, so the
    probe passes when none of it is mentioned at all (negated or not: naming a deleted value leaks it). For
    the others it passes when the answer states an expected answer and mentions no `reject` value (the value
    an update replaced, a deleted one, the other candidates for the question). Unrelated probes are scored
    like taught ones here; the metrics compare their accuracy with mode none's."""
    if tag in LEAK_TAGS:
        leaked = any(mentions(answer, v) for v in (*expect, *aliases))
        return Score(correct=not leaked, answered=leaked)
    answered = any(mentions(answer, v) for v in (*expect, *aliases))
    return Score(correct=correct(answer, expect, aliases, reject), answered=answered)
