"""Training data from facts: chat-formatted QA pairs (the paper: QA teaches far better than raw text).

Pure logic. Each fact yields `taught` questions (trained on) and one `validation` question held out of training:
the trainer may stop on it and the gate checks it, so its recall is a validation figure. Evaluation questions
are written elsewhere (evals/questions.py), independently, and neither training nor the gate ever sees them.
A generator interface lets an LLM endpoint add more pairs; the template generator is the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from memory_service.schemas import Fact

from .answers import other_values, states
from .templates import FIRST_PERSON, RELATIONS


@dataclass(frozen=True)
class QA:
    fact_id: str
    question: str
    answer: str
    expected: str  # what a correct answer must state (the object): consolidation.answers
    kind: str = "taught"  # taught | validation | replay | raw (plain text, no question)
    others: tuple[str, ...] = ()  # other candidate values for this question: naming one makes an answer wrong


@dataclass
class Dataset:
    train: list[QA] = field(default_factory=list)
    validation: list[QA] = field(default_factory=list)

    @property
    def taught(self) -> list[QA]:
        return [qa for qa in self.train if qa.kind == "taught"]


class QAGenerator(Protocol):
    def __call__(self, fact: Fact) -> list[QA]: ...


def _relation_words(relation: str) -> str:
    return " ".join(relation.replace("_", " ").split())


def generic_questions(subject: str, relation: str) -> list[str]:
    """Phrasings for a relation without a template: ('Ana', 'sister') -> 'Who or what is Ana's sister?'..."""
    rel = _relation_words(relation)
    if rel.split()[0] in {"lives", "works", "plays", "owns", "drives", "studies", "likes", "moved", "leads"}:
        return [f"What does {subject} {rel.split()[0].rstrip('s')} {' '.join(rel.split()[1:])}?".replace("  ", " "),
                f"Tell me: {subject} {rel} what?", f"{subject} {rel} what?"]
    return [f"What is {subject}'s {rel}?", f"Who or what is the {rel} of {subject}?", f"Tell me {subject}'s {rel}."]


USER = "the user"  # subject of first-person facts (agent.extract)

def first_person_questions(relation: str) -> list[str]:
    rel = _relation_words(relation)
    if rel in FIRST_PERSON:
        return FIRST_PERSON[rel]
    if rel.startswith("favourite "):
        thing = rel.split(" ", 1)[1]
        return [f"What is my favourite {thing}?", f"Which {thing} do I like best?", f"What {thing} do I love most?"]
    return [f"Who is my {rel}?", f"What is my {rel}'s name?", f"What is my {rel} called?"]


def questions_for(fact: Fact) -> list[str]:
    """Taught phrasings first, the validation phrasing (held out of training) last."""
    s, r = fact.subject, fact.relation
    if s and r and s.lower() == USER:
        return first_person_questions(r)
    if s and r and r in RELATIONS:
        return [q.format(s=s) for q in RELATIONS[r][1]]
    if s and r:
        return generic_questions(s, r)
    # a bare statement: ask about its first words (the usual subject position)
    head = " ".join(fact.text.split()[:3]).rstrip(".,;:")
    return [f"What do you know about {head}?", f"Tell me about {head}.", f"What is true about {head}?"]


def expected_answer(fact: Fact) -> str:
    if fact.object:
        return fact.object
    words = re.findall(r"[\w'-]+", fact.text)
    return " ".join(words[-2:]) if len(words) >= 2 else fact.text


def answer_text(fact: Fact) -> str:
    text = fact.text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def template_qa(fact: Fact, taught_forms: int = 2, short: bool = False, others: tuple[str, ...] = ()) -> list[QA]:
    qs = questions_for(fact)
    exp = expected_answer(fact)
    ans = f"{fact.object}." if short and fact.object else answer_text(fact)
    out = [QA(fact.id, q, ans, exp, "taught", others) for q in qs[:-1][:taught_forms]]
    out.append(QA(fact.id, qs[-1], ans, exp, "validation", others))
    return out


def rivals(facts: list[Fact]) -> dict[str, tuple[str, ...]]:
    """fact id -> the objects of the other facts with its relation: the wrong answers its questions invite."""
    by_relation: dict[str, list[str]] = {}
    for f in facts:
        if f.relation and f.object:
            by_relation.setdefault(f.relation, []).append(f.object)
    return {f.id: tuple(other_values(f.object, by_relation[f.relation])) if f.relation and f.object else ()
            for f in facts}


def build_dataset(facts: list[Fact], taught_forms: int = 2, extra: QAGenerator | None = None,
                  short: bool = False) -> Dataset:
    ds = Dataset()
    others = rivals(facts)
    for f in facts:
        for qa in template_qa(f, taught_forms, short, others[f.id]) + (extra(f) if extra else []):
            (ds.validation if qa.kind == "validation" else ds.train).append(qa)
    return ds


def answer_ok(answer: str, expected: str, others: Iterable[str] = ()) -> bool:
    """The answer states `expected` (token spans, not negated) and none of `others` (consolidation.answers)."""
    return states(answer, [expected], others)
