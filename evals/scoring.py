"""Answer scoring: does an answer mention an expected answer? Pure functions on strings.

An expected answer "appears" when its normalized tokens form a contiguous run of the answer's normalized tokens:
"Lisbon" is in "She lives in Lisbon, Portugal." but "Lisbon" is not in "Lisbonne", and "cat" is not in "category".
Normalization folds case and accents, drops punctuation and the articles a/an/the, keeps digits, and also
compares phone-like numbers with their separators removed ("(555) 012-3456" matches "5550123456").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Probes whose expected answers must NOT appear: a pass is an answer that names none of them.
LEAK_TAGS = frozenset({"deleted", "other-namespace"})
_ARTICLES = frozenset({"a", "an", "the"})
# 7+ digits joined by at most single separators: phone numbers, not "May 7, 2023" (a comma breaks the run).
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"'s\b", "", text).replace("'", "")  # "Marla's" -> "marla", "don't" -> "dont"


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[^\w]+|_", text) if t and t not in _ARTICLES)


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation or articles; digits kept: 'The Café, No. 7!' -> 'cafe no 7'."""
    return " ".join(_tokens(_fold(text)))


def _collapse_phones(folded: str) -> str:
    def digits(m: re.Match) -> str:
        run = re.sub(r"\D", "", m.group())
        return f" {run} " if len(run) >= 7 else m.group()

    return _PHONE.sub(digits, folded)


def _variants(text: str) -> set[tuple[str, ...]]:
    """Token sequences to compare: as split at punctuation, and with phone-like numbers as one run of digits."""
    folded = _fold(text)
    return {_tokens(folded), _tokens(_collapse_phones(folded))}


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def mentions(answer: str, candidate: str) -> bool:
    """True when `candidate` appears in `answer` as a normalized token span."""
    answer_forms = _variants(answer)
    return any(_contains(a, c) for c in _variants(candidate) for a in answer_forms)


def correct(answer: str, expect: Iterable[str], aliases: Iterable[str] = ()) -> bool:
    """True when any expected answer or alias appears in the answer."""
    return any(mentions(answer, c) for c in (*expect, *aliases))


@dataclass(frozen=True)
class Score:
    correct: bool  # the probe passes (for leak tags: nothing forbidden was said)
    answered: bool  # an expected answer or alias appears in the answer (for leak tags: the leak)


def score(tag: str, answer: str, expect: Iterable[str], aliases: Iterable[str] = (),
          reject: Iterable[str] = ()) -> Score:
    """Score one probe answer. For deleted/other-namespace probes `expect` lists what must not appear, so the
    probe passes when nothing is answered; for the others it passes when an answer appears and no `reject`
    answer (e.g. the value an update replaced) does. Unrelated probes are scored like taught ones here; the
    metrics compare their accuracy with mode none's."""
    answered = correct(answer, expect, aliases)
    if tag in LEAK_TAGS:
        return Score(correct=not answered, answered=answered)
    return Score(correct=answered and not correct(answer, reject), answered=answered)
