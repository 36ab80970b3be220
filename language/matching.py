"""Whether an answer states a value: the one matcher used by the recall gate, the evaluations and the demo.

A value "appears" when its normalized tokens form a contiguous run of the answer's normalized tokens: "Lisbon"
is in "She lives in Lisbon, Portugal." but not in "Lisbonne", "7" is not in "17" and "lion" not in "million".
Normalization folds case and accents, drops punctuation and the articles a/an/the, keeps digits, and also
compares phone-like numbers with their separators removed ("(555) 012-3456" matches "5550123456"). Words match
in any inflection ("hazelnuts" states "hazelnut", "running" states "run": the Porter stemmer, as LoCoMo's F1),
a stem shared by words that only begin alike aside ("organization" does not state "organ").

An answer *states* an expected value when it mentions it, not negated in its own clause (before it, "Not
Porvoo.", "She doesn't live in Porvoo"; or after it, "Porvoo is not where you live"; a leading "No," that
corrects the question is a clause of its own: "No, it's Porvoo." states Porvoo), not offered as one of
alternatives ("Bergen or Oslo.", "Probably Bergen, Trondheim or Stavanger.": a list of guesses is not an answer,
whether or not the other names are known values), and mentions no other candidate for the same question. Pure
functions on strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS

from .lexicon import ARTICLES, HEDGE_TAILS, MAYBE, NEGATIONS

NEGATION_WINDOW = 3  # tokens before a mention that can negate it ("does not live in Porvoo")
AFTER_COPULA = frozenset({"is", "was", "are", "were", "isnt", "wasnt", "arent", "werent", "does", "doesnt", "did",
                          "didnt"})  # "Porvoo is not ...", "Porvoo isn't ...": the mention is what is negated
# a clause ends at punctuation or "but": "No, it's Porvoo", "It isn't Ostrava but Porvoo"
_CLAUSE = re.compile(r"[,;:.!?()]+|\bbut\b")
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


def _clauses(text: str) -> list[tuple[Tokens, tuple[int, ...]]]:
    """Each variant's tokens with the clause each token is in (a clause ends at punctuation or "but")."""
    folded = _fold(text)
    out = []
    for variant in dict.fromkeys([folded, _collapse_phones(folded)]):
        tokens: list[str] = []
        ids: list[int] = []
        for i, piece in enumerate(_CLAUSE.split(variant)):
            words = _tokens(piece)
            tokens += words
            ids += [i] * len(words)
        out.append((tuple(tokens), tuple(ids)))
    return out


@lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem import PorterStemmer  # the stemmer alone: no nltk data files needed

    return PorterStemmer()


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    return _stemmer().stem(token)


def same_word(a: str, b: str) -> bool:
    """The same word, inflections aside: equal, or one stem whose longer word only adds an ending (at most four
    letters after the shorter one, less a final "e" or "y") to the shorter."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit() or min(len(a), len(b)) < 3 or _stem(a) != _stem(b):
        return False
    short, long = sorted((a, b), key=len)
    root = short[:-1] if short[-1] in "ey" else short
    return long.startswith(root) and len(long) - len(root) <= 4


def _starts(hay: Tokens, needle: Tokens) -> list[int]:
    n = len(needle)
    return [i for i in range(len(hay) - n + 1) if n and all(same_word(h, w) for h, w in zip(hay[i:i + n], needle))]


def mentions(answer: str, value: str) -> bool:
    """`value` appears in `answer` as a normalized token span (negated or not)."""
    return any(_starts(a, v) for a in _variants(answer) for v in _variants(value))


def _negated(hay: Tokens, clause: tuple[int, ...], start: int, n: int) -> bool:
    """A negation in the mention's clause: within NEGATION_WINDOW tokens before it, or right after it as the
    subject of a negated copula ("Porvoo is not ...", "Porvoo isn't ...")."""
    before = [hay[j] for j in range(max(0, start - NEGATION_WINDOW), start) if clause[j] == clause[start]]
    after = [hay[j] for j in range(start + n, min(len(hay), start + n + 2)) if clause[j] == clause[start]]
    return any(t in NEGATIONS for t in before) or bool(after) and (
        after[0] in NEGATIONS - {"no", "none", "nobody"} or after[0] in AFTER_COPULA and (
            after[0].endswith("nt") or after[1:2] and after[1] in NEGATIONS))


def _hedged(hay: Tokens, clause: tuple[int, ...], start: int, n: int) -> bool:
    """The mention is one of alternatives in its clause ("Bergen or Oslo", "Bergen, Trondheim or Stavanger",
    "either Oslo or Bergen"): an "or" just after it (the next clause's list item counts) or just before it with
    a word of substance on its other side ("or so", "or thereabouts" hedge nothing)."""
    end = start + n
    after = hay[end:end + 4]
    if "or" in after:
        j = end + after.index("or") + 1
        while j < len(hay) and hay[j] in MAYBE:
            j += 1
        return j < len(hay) and hay[j] not in HEDGE_TAILS and hay[j] not in STOP_WORDS
    return start >= 2 and hay[start - 1] == "or" and clause[start - 2] in (clause[start], clause[start] - 1)


def states(answer: str, expected: Iterable[str], others: Iterable[str] = ()) -> bool:
    """The answer affirms one of `expected` (a mention neither negated in its clause nor offered among
    alternatives) and mentions none of `others` (other candidate values for the question) outside its mentions
    of the expected ones."""
    expected = [v for e in expected for v in _variants(e) if v]
    others = [v for o in others for v in _variants(o) if v]
    for a, clause in _clauses(answer):
        found = [(i, len(e)) for e in expected for i in _starts(a, e)]
        if not any(not _negated(a, clause, i, n) and not _hedged(a, clause, i, n) for i, n in found):
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
