"""LoCoMo's own answer score, token F1 per question category, as its authors compute it (task_eval/evaluation.py
of snap-research/LoCoMo): answers normalized (commas, punctuation, case, the words a/an/the/and), tokens
Porter-stemmed, F1 of the token multisets. Multi-hop (1): the gold answer and the prediction are split on commas
and each gold part takes its best prediction part; open-domain (3): only the gold answer before a ';'; temporal
(2) and single-hop (4): plain F1; adversarial (5): 1 when the answer says "no information available" or "not
mentioned", else 0.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_PUNCT = set(string.punctuation)


@lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem import PorterStemmer  # the stemmer alone: no nltk data files needed

    return PorterStemmer()


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.replace(",", "").lower() if ch not in _PUNCT)
    return " ".join(re.sub(r"\b(a|an|the|and)\b", " ", text).split())


def token_f1(prediction: str, truth: str) -> float:
    stem = _stemmer().stem
    pred = [stem(w) for w in normalize(prediction).split()]
    gold = [stem(w) for w in normalize(truth).split()]
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def multi_hop_f1(prediction: str, truth: str) -> float:
    parts = [p.strip() for p in prediction.split(",")]
    golds = [g.strip() for g in truth.split(",")]
    return sum(max(token_f1(p, g) for p in parts) for g in golds) / len(golds)


def locomo_f1(prediction: str, answer: str, category: int) -> float:
    """The score of one answer to one LoCoMo question of `category` (1-5)."""
    if category == 5:
        said = prediction.lower()
        return 1.0 if "no information available" in said or "not mentioned" in said else 0.0
    if category == 3:
        answer = answer.split(";")[0].strip()
    if category == 1:
        return multi_hop_f1(prediction, answer)
    if category in (2, 3, 4):
        return token_f1(prediction, answer)
    raise ValueError(f"LoCoMo category {category!r}: one of {sorted(CATEGORIES)}")
