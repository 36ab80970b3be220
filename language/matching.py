"""Whether an answer states a value: the one matcher used by the recall gate, the evaluations and the demo.

A value "appears" when its normalized tokens form a contiguous run of the answer's normalized tokens: "Lisbon"
is in "She lives in Lisbon, Portugal." but not in "Lisbonne", "7" is not in "17" and "lion" not in "million".
Normalization folds case and accents, drops punctuation and the articles a/an/the, keeps digits, and also
compares phone-like numbers with their separators removed ("(555) 012-3456" matches "5550123456").

An answer *states* an expected value when it mentions it without a negation just before it ("Not Porvoo." does
not state Porvoo) and mentions no other candidate for the same question ("Varkaus, Porvoo or Ostrava" states
nothing: a list of guesses is not an answer). Pure functions on strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .lexicon import ARTICLES, NEGATIONS

NEGATION_WINDOW = 3  # tokens before a mention that can negate it ("does not live in Porvoo")
# 7+ digits joined by at most single separators: phone numbers, not "May 7, 2023" (a comma breaks the run).
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")

Tokens = tuple[str, ...]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"'s\b", "", text).replace("'", "")  # "Marla's" -> "marla", "don't" -> "dont"


def _tokens(text: str) -> Tokens:
    return tuple(t for t in re.split(r"[^\w]+|_", text) if t and t not in ARTICLES)


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation or articles; digits kept: 'The Café, No. 7!' -> 'cafe no 7'."""
    return " ".join(_tokens(_fold(text)))


def _collapse_phones(folded: str) -> str:
    def digits(m: re.Match) -> str:
        run = re.sub(r"\D", "", m.group())
        return f" {run} " if len(run) >= 7 else m.group()

    return _PHONE.sub(digits, folded)


def _variants(text: str) -> list[Tokens]:
    """Token sequences to compare: as split at punctuation, and with phone-like numbers as one run of digits."""
    folded = _fold(text)
    plain, phones = _tokens(folded), _tokens(_collapse_phones(folded))
    return [plain] if plain == phones else [plain, phones]


def _starts(hay: Tokens, needle: Tokens) -> list[int]:
    n = len(needle)
    return [i for i in range(len(hay) - n + 1) if n and hay[i:i + n] == needle]


def mentions(answer: str, value: str) -> bool:
    """`value` appears in `answer` as a normalized token span (negated or not)."""
    return any(_starts(a, v) for a in _variants(answer) for v in _variants(value))


def _negated(hay: Tokens, start: int) -> bool:
    return any(t in NEGATIONS for t in hay[max(0, start - NEGATION_WINDOW):start])


def states(answer: str, expected: Iterable[str], others: Iterable[str] = ()) -> bool:
    """The answer affirms one of `expected` (a mention not negated) and mentions none of `others` (other
    candidate values for the question) outside its mentions of the expected ones."""
    expected = [v for e in expected for v in _variants(e) if v]
    others = [v for o in others for v in _variants(o) if v]
    for a in _variants(answer):
        found = [(i, len(e)) for e in expected for i in _starts(a, e)]
        if not any(not _negated(a, i) for i, _ in found):
            continue
        covered = {j for i, n in found for j in range(i, i + n)}
        stray = [i for o in others for i in _starts(a, o) if not set(range(i, i + len(o))) <= covered]
        if not stray:
            return True
    return False


def other_values(value: str, candidates: Iterable[str]) -> list[str]:
    """The candidates that can count against `value`: not the same value and not part of it or it of them
    ("Porvoo" does not count against "Porvoo Harbour"), once each."""
    mine = {v for v in _variants(value)}
    out: list[str] = []
    for c in candidates:
        theirs = _variants(c)
        if not c or any(_starts(m, t) or _starts(t, m) for m in mine for t in theirs) or c in out:
            continue
        out.append(c)
    return out
