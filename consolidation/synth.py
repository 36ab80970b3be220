"""Training data from facts: chat-formatted QA pairs (the paper: QA teaches far better than raw text).

Pure logic. Each fact yields `taught` questions (trained on) and one `validation` question held out of training:
the trainer may stop on it and the gate checks it, so its recall is a validation figure. Evaluation questions
are written elsewhere (evals/questions.py), independently, and neither training nor the gate ever sees them.
With an LLM endpoint configured, it adds more training wordings (`more_questions`), each checked here: a
question that gives its answer away, repeats another question, or is asked of two facts with different answers
is dropped, so the endpoint can only add to the deterministic pairs, never replace or contaminate them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable

from language.extraction import done_at
from language.lexicon import KIN_NAMES, USER
from language.matching import other_values, states
from language.phrasing import (
    doer_question,
    fact_questions,
    guess_kind,
    guess_past,
    is_person_role,
    is_verb_relation,
    manner_question,
    reverse_questions,
    statement_questions,
    time_questions,
    type_noun,
    typed_questions,
)
from language.templates import FIRST_PERSON_QUESTIONS, RELATIONS
from memory_service.schemas import Fact


@dataclass(frozen=True)
class QA:
    fact_id: str
    question: str
    answer: str
    expected: str  # what a correct answer must state (the object): language.matching
    kind: str = "taught"  # taught | validation | reverse, augmented (trained, not gated) | replay | raw (plain text)
    others: tuple[str, ...] = ()  # other candidate values for this question: naming one makes an answer wrong
    source: str = "rules"  # rules | llm (written by the configured endpoint, checked by usable_question)
    context: str | None = None  # notes before the question, as rag and hybrid ask it (reading replay)
    ends: bool = True  # the answer ends the turn; False for a base answer cut at the token limit (replay)


@dataclass
class Dataset:
    train: list[QA] = field(default_factory=list)
    validation: list[QA] = field(default_factory=list)

    @property
    def generated(self) -> int:
        """Training questions the LLM endpoint wrote that were kept."""
        return sum(qa.source == "llm" for qa in self.train)

    @property
    def taught(self) -> list[QA]:
        return [qa for qa in self.train if qa.kind == "taught"]


# (fact text, answer) pairs -> candidate questions for each, or None when the endpoint failed (memory_service.llm)
MoreQuestions = Callable[[list[tuple[str, str]]], "list[list[str]] | None"]


def _relation_words(relation: str) -> str:
    return " ".join(relation.replace("_", " ").split())


def generic_questions(subject: str, relation: str) -> list[str]:
    """Phrasings for a relation without a template: ('Ana', 'sister') -> 'Who or what is Ana's sister?'..."""
    rel = _relation_words(relation)
    if rel.split()[0] in {"lives", "works", "plays", "owns", "drives", "studies", "likes", "moved", "leads"}:
        return [f"What does {subject} {rel.split()[0].rstrip('s')} {' '.join(rel.split()[1:])}?".replace("  ", " "),
                f"Tell me: {subject} {rel} what?", f"{subject} {rel} what?"]
    return [f"What is {subject}'s {rel}?", f"Who or what is the {rel} of {subject}?", f"Tell me {subject}'s {rel}."]



def first_person_questions(relation: str) -> list[str]:
    rel = _relation_words(relation)
    if rel in FIRST_PERSON_QUESTIONS:
        return FIRST_PERSON_QUESTIONS[rel]
    if rel.startswith("favourite "):
        thing = rel.split(" ", 1)[1]
        return [f"What is my favourite {thing}?", f"Which {thing} do I like best?", f"What {thing} do I love most?"]
    return [f"Who is my {rel}?", f"What is my {rel}'s name?", f"What is my {rel} called?"]


# the extractor's relation names (language.extraction) for relations the templates cover
TEMPLATE_NAMES = {"live in": "lives in", "work at": "works at", "work as": "works as", "drive": "car"}


def questions_for(fact: Fact) -> list[str]:
    """Taught phrasings first, the validation phrasing (held out of training) last."""
    s, r = fact.subject, fact.relation
    r = TEMPLATE_NAMES.get(r, r) if r else r
    if s and r and s.lower() == USER and _relation_words(r) in FIRST_PERSON_QUESTIONS:
        return first_person_questions(r)
    if s and r and r in RELATIONS:
        return [q.format(s=s) for q in RELATIONS[r][1]]
    if s and r and fact.object:
        return [p.question for p in fact_questions(s, fact.relation, fact.object,
                                                   guess_kind(fact.relation, fact.object), guess_past(fact.text))]
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


def reverse_qa(fact: Fact) -> list[QA]:
    """"Who is Maren Coyle?" -> "Maren Coyle is your supervisor at Ostwin." for a person named by a role: trained,
    so the adapter knows the name both ways, but not gated (`kind="reverse"`)."""
    s, r, o = fact.subject, fact.relation, fact.object
    if not (s and r and o) or is_verb_relation(r) or guess_kind(r, o) != "person":
        return []
    (who, _) = reverse_questions(s, r, o)
    return [QA(fact.id, who.question, who.answer + ".", r.split(" at ")[0].split()[-1], "reverse")]


TITLES = {"uncle", "aunt", "auntie", "gran", "granny", "grandma", "grandpa", "grandad", "nan", "nana", "cousin"}


def roles(facts: list[Fact]) -> dict[str, list[str]]:
    """name -> how else it is said: "my sister Ilsabet" makes Ilsabet "my sister"; "Dad, Fitz," makes Dad
    "my dad" and "Fitz"; "Tessaly's husband Emeric" makes Emeric "Tessaly's husband". People are asked about
    by role as often as by name ("What does my sister do?"), and a small model does not make that hop itself."""
    out: dict[str, list[str]] = {}
    for f in facts:
        if not (f.subject and f.relation and f.object) or not f.object[:1].isupper() or not is_person_role(f.relation):
            continue
        role = f"my {f.relation}" if f.subject == USER else f"{f.subject}'s {f.relation}"
        out.setdefault(f.object, []).append(role)
        if f.subject == USER and f.relation in TITLES:  # "Uncle Anselm", "Gran Nessa"
            out[f.object].append(f"{f.relation.capitalize()} {f.object}")
        if f.subject == USER and f.relation in KIN_NAMES:  # "Dad retired": Dad is Fitz, and my dad
            out.setdefault(f.relation.capitalize(), []).extend([f"my {f.relation}", f.object])
    return {name: list(dict.fromkeys(r for r in rs if r != name)) for name, rs in out.items()}


def role_qa(fact: Fact, aliases: dict[str, list[str]], forms: int = 2, short: bool = False) -> list[QA]:
    """The fact's questions asked of its subject by role ("What does my sister do for a living?" for Ilsabet's
    job): taught, and so checked by the gate's taught recall, never held out."""
    if not (fact.subject and fact.relation and fact.object) or fact.subject not in aliases:
        return []
    if is_person_role(fact.relation):
        return []  # "Who is my sister's daughter?" next to "Who is my sister?" taught the one answer for the other
    ans = f"{fact.object}." if short else answer_text(fact)
    out = []
    for alias in aliases[fact.subject]:
        qs = questions_for(fact.model_copy(update={"subject": alias}))
        out += [QA(fact.id, q, ans, fact.object, "taught") for q in qs[:-1][:forms]]
    return out


def typed_qa(facts: list[Fact], short: bool = False) -> list[QA]:
    """"Which band does Fennimore play in?" for a name the statement gives to a common noun ("a band called the
    Sallow Kites"), read from the statement each fact came from (when it is among `facts`): taught, never held out."""
    said = {f.id: f for f in facts if not f.derived_from}
    typed = [f for f in facts if f.derived_from in said and f.subject and f.relation and f.object]
    if not typed:
        return []
    from language.parsing import parse

    texts = list(dict.fromkeys(said[f.derived_from].text for f in typed))
    docs = dict(zip(texts, parse(texts)))
    out = []
    for f in typed:
        noun = type_noun(docs[said[f.derived_from].text], f.object)
        if noun is None:
            continue
        ans = f"{f.object}." if short else answer_text(f)
        out += [QA(f.id, p.question, ans, f.object, "taught")
                for p in typed_questions(f.subject, f.relation, f.object, noun, guess_past(f.text))]
    return out


def where_done_qa(facts: list[Fact], short: bool = False) -> list[QA]:
    """"Where does Tessaly run Thursday quiz?" -> "Gull & Lantern." for a place a statement says a thing is done
    at ("runs the Thursday quiz at the Gull & Lantern" gives *run* and *run at*): asked with the thing, as people
    ask ("Which pub is Tessaly's quiz at?"); taught, never held out."""
    done = {(f.derived_from, f.subject, f.relation): f.object for f in facts
            if f.derived_from and f.subject and f.relation and f.object and len(f.relation.split()) == 1}
    out = []
    for f in facts:
        words = (f.relation or "").split()
        if not (f.derived_from and f.subject and f.object and len(words) == 2 and done_at(f.relation, f.object)):
            continue
        thing = done.get((f.derived_from, f.subject, words[0]))
        if thing is None:
            continue
        pair = fact_questions(f.subject, f"{words[0]} {thing} at", f.object, "place", guess_past(f.text))[0]
        out.append(QA(f.id, pair.question, f"{f.object}." if short else answer_text(f), f.object, "taught"))
    return out


def doer_qa(fact: Fact, short: bool = False) -> list[QA]:
    """"Who organises the whole trip?" -> "Ruari Penhask." for what a named person does (phrasing.doer_question):
    taught, so an adapter knows the fact both ways, as the paper's reverse questions do."""
    s, r, o = fact.subject, fact.relation, fact.object
    if not (s and r and o):
        return []
    pair = doer_question(s, r, o, guess_kind(r, o), guess_past(fact.text))
    if pair is None:
        return []
    return [QA(fact.id, pair.question, f"{pair.answer}." if short else answer_text(fact), pair.answer, "taught")]


def manner_qa(fact: Fact) -> list[QA]:
    """"How do I get to work?" -> "cycling." for a journey its verb says the means of (phrasing.manner_question):
    taught, never held out."""
    s, r, o = fact.subject, fact.relation, fact.object
    pair = manner_question(s, r, o, guess_past(fact.text)) if s and r and o else None
    if pair is None:
        return []
    # answered in its own word, short or not: the fact's statement says "cycles", not "cycling"
    return [QA(fact.id, pair.question, f"{pair.answer}.", pair.answer, "taught")]


def when_qa(fact: Fact, short: bool = False) -> list[QA]:
    """"When did Gina launch ad campaign?" for an event the fact tells in the past, dated by when it was said
    (temporal questions are a large share of what people ask of a conversation), else "Since when does Tessaly
    live in Lowhithe?" for a time said with it, and "When did Tessaly start to live in Lowhithe?" for a "since":
    taught, never held out."""
    s, r, o = fact.subject, fact.relation, fact.object
    if not (s and r and o):
        return []
    return [QA(fact.id, p.question, f"{p.answer}." if short else answer_text(fact), p.answer, "taught")
            for p in time_questions(s, r, o, fact.said_at, fact.qualifier, guess_past(fact.text), fact.text)]


def statement_qa(facts: list[Fact], taught_forms: int = 2, short: bool = False) -> dict[str, list[QA]]:
    """QA pairs for statements without a subject/relation/object (verbatim chat statements whose facts were not
    read, free text written through the API): the text is analysed now and each triple read from it gets its
    questions; a statement without any triple gets an echo question about each name, place, number and date
    in it. A statement with nothing to ask about gets none (it stays in the short-term store)."""
    if not facts:
        return {}
    from language.intake import read_parsed
    from language.parsing import parse

    by_speaker: dict[str, list[Fact]] = {}
    for f in facts:
        by_speaker.setdefault(f.speaker or "user", []).append(f)
    out: dict[str, list[QA]] = {}
    for speaker, group in by_speaker.items():
        docs = parse([f.text.strip() for f in group])  # once: intake and the echo questions share it
        for f, intake, doc in zip(group, read_parsed(docs, speaker), docs):
            qas: list[QA] = []
            covered: set[str] = set()
            for t in (t for sent in intake.sentences for t in sent.triples):
                pairs = fact_questions(t.subject, t.relation, t.object, t.answer, guess_past(t.text))
                ans = f"{t.object}." if short else answer_text(f)
                qas += [QA(f.id, p.question, ans, t.object, "taught") for p in pairs[:-1][:taught_forms]]
                qas.append(QA(f.id, pairs[-1].question, ans, t.object, "validation"))
                qas += [QA(f.id, when.question, f"{when.answer}." if short else answer_text(f), when.answer, "taught")
                        for when in time_questions(t.subject, t.relation, t.object, f.said_at, t.qualifier,
                                                   guess_past(t.text), t.text)]
                for other in (doer_question(t.subject, t.relation, t.object, t.answer, guess_past(t.text)),
                              manner_question(t.subject, t.relation, t.object, guess_past(t.text))):
                    if other is not None:
                        qas.append(QA(f.id, other.question, f"{other.answer}." if short else answer_text(f),
                                      other.answer, "taught"))
                covered.add(t.object.lower())
            echoes = [] if covered else statement_questions(doc, speaker)  # triples say it better where read
            qas += [QA(f.id, p.question, f"{p.answer}." if short else answer_text(f), p.answer, "taught")
                    for p in echoes]
            if echoes and not any(qa.kind == "validation" for qa in qas):
                first = echoes[0]
                cloze = first.question.rstrip("?")
                qas.append(QA(f.id, f"Fill in the blank: {cloze}?", f"{first.answer}." if short else answer_text(f),
                              first.answer, "validation"))
            out[f.id] = qas
    return out


def build_dataset(facts: list[Fact], taught_forms: int = 2, more_questions: MoreQuestions | None = None,
                  short: bool = False, llm_batch: int = 8, augment: bool = False, restate: bool = False) -> Dataset:
    """Training and validation pairs for `facts`. A statement whose facts are in the same set is covered by
    them (their questions are its questions); a statement without any is analysed (statement_qa). `augment`:
    each fact is also trained in the other forms the analysis writes (augmented_qa); `restate`: what is known of
    each subject is also said back whole (restated_qa)."""
    ds = Dataset()
    others = rivals(facts)
    read_from = {f.derived_from for f in facts if f.derived_from}
    bare = [f for f in facts if not (f.subject and f.relation) and f.id not in read_from]
    analysed = statement_qa(bare, taught_forms, short)
    aliases = roles(facts)
    for f in facts:
        if f.id in read_from and not (f.subject and f.relation):
            continue  # covered by the facts read from it
        qas = analysed.get(f.id) if f.id in analysed else template_qa(f, taught_forms, short, others[f.id])
        asked_otherwise = reverse_qa(f) + when_qa(f, short) + doer_qa(f, short) + manner_qa(f)
        for qa in qas + asked_otherwise + role_qa(f, aliases, short=short):
            (ds.validation if qa.kind == "validation" else ds.train).append(qa)
    ds.train += typed_qa(facts, short) + where_done_qa(facts, short)
    if augment:
        ds.train += augmented_qa(facts, ds)
    if restate:
        ds.train += restated_qa(facts)
    if more_questions is not None:
        _add_generated(ds, facts, more_questions, llm_batch)
    return _without_conflicts(ds)


# a template relation's name as the extractor writes it (the inverse of TEMPLATE_NAMES), for the analysis' forms
EXTRACTOR_NAMES = {template: extracted for extracted, template in TEMPLATE_NAMES.items()}


def augmented_qa(facts: list[Fact], ds: Dataset) -> list[QA]:
    """Knowledge augmentation: a fact seen in one phrasing is memorised but not recalled when asked otherwise
    (Allen-Zhu & Li, Physics of Language Models 3.1; Abonizio et al. 2025), so each fact is also trained in every
    form the analysis writes for it (direct, cleft, embedded, tell: language.phrasing.fact_questions) that is
    not already a training or validation question, its answer short and whole in turn; and, where its answer
    is a name, the other way round ("Whose pet is Pimento?", kind "reverse"). Kind "augmented": trained, not
    counted by the stopping rule and not gated (the gate checks the taught and validation forms as before)."""
    seen = {plain_words(qa.question) for qa in ds.train + ds.validation}
    out: list[QA] = []
    for f in facts:
        if not (f.subject and f.relation and f.object):
            continue
        rel = EXTRACTOR_NAMES.get(f.relation, f.relation)
        kind = guess_kind(rel, f.object)
        forms = [p.question for p in fact_questions(f.subject, rel, f.object, kind, guess_past(f.text))]
        if not is_verb_relation(rel) and f.object[:1].isupper() and not is_person_role(rel):
            forms.append(f"Whose {rel} is {f.object}?")  # the other way round: the answer is the subject
        for i, q in enumerate(forms):
            if plain_words(q) in seen:
                continue
            seen.add(plain_words(q))
            if q.startswith("Whose "):
                out.append(QA(f.id, q, f"{f.subject}.", f.subject, "reverse"))
            else:
                out.append(QA(f.id, q, f"{f.object}." if i % 2 == 0 else answer_text(f), f.object, "augmented"))
    return out


RESTATE_PROMPTS = ("What do you know about {s}?", "Tell me about {s}.", "Who is {s}?")


def restated_qa(facts: list[Fact]) -> list[QA]:
    """Declarative restatements: for each subject, what the set says of it, said back whole ("What do you know
    about Zindkem Taeho?" -> "Zindkem Taeho lives in Brindlewick. Zindkem Taeho's favourite food is plum
    dumplings."), so that a fact is also trained as a statement about its subject, not only as the answer to its
    questions (Allen-Zhu & Li, Physics of Language Models 3.1: knowledge seen in varied forms is extractable).
    One prompt per subject, in turn; kind "augmented" (trained, not gated). The user's own facts are left out:
    "What do you know about the user?" is asked of the notes."""
    by_subject: dict[str, list[Fact]] = {}
    for f in facts:
        if f.subject and f.relation and f.object and f.subject != USER:
            by_subject.setdefault(f.subject, []).append(f)
    return [QA(fs[0].id, RESTATE_PROMPTS[i % len(RESTATE_PROMPTS)].format(s=subject),
               " ".join(answer_text(f) for f in fs), fs[0].object, "augmented")
            for i, (subject, fs) in enumerate(by_subject.items())]


def neighbours(facts: list[Fact]) -> dict[str, int]:
    """fact id -> its neighbourhood: facts whose subjects or objects share a name word ("Nenbrond Halnin",
    "Nenbrond Vundtand", "Guthvuth Vundtand" are one), numbered in order of first appearance. Trained side by side
    (one batch), a neighbour's question is in the same step as the fact's, so the adapter learns to tell apart the
    names a phone book shares rather than one association per surname."""
    parent = list(range(len(facts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, f in enumerate(facts):
        named = " ".join(x for x in (f.subject, f.object) if x and x.lower() != USER)
        for word in re.findall(r"\b[A-Z][\w'-]+", named):
            parent[root(i)] = root(first.setdefault(word, i))
    numbers: dict[int, int] = {}
    return {f.id: numbers.setdefault(root(i), len(numbers)) for i, f in enumerate(facts)}


def plain_words(question: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", question.lower()))


def usable_question(question: str, expected: str, seen: set[str]) -> str | None:
    """A generated question as it will be trained, or None: it must be a question of sensible length, must not
    contain its own answer, and must not repeat any question already in the set (a training wording, or the
    validation question the gate holds out)."""
    q = " ".join(question.split())
    if not (8 <= len(q) <= 200) or not q.endswith("?") or plain_words(q) in seen:
        return None
    if states(q, [expected]):
        return None
    return q


def _add_generated(ds: Dataset, facts: list[Fact], more_questions: MoreQuestions, batch: int) -> None:
    text = {f.id: answer_text(f) for f in facts}
    first: dict[str, QA] = {}
    for qa in ds.taught:
        first.setdefault(qa.fact_id, qa)
    known = {plain_words(qa.question) for qa in ds.train + ds.validation}
    items = list(first.values())
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        got = more_questions([(text.get(qa.fact_id, qa.answer), qa.expected) for qa in chunk])
        for qa, candidates in zip(chunk, got or []):
            seen = set(known)  # per fact: the same question written for two facts is left to _without_conflicts
            for candidate in candidates:
                if q := usable_question(candidate, qa.expected, seen):
                    seen.add(plain_words(q))
                    ds.train.append(QA(qa.fact_id, q, qa.answer, qa.expected, "taught", qa.others, "llm"))


def _without_conflicts(ds: Dataset) -> Dataset:
    """Drop every question that two facts answer differently ("Who is my dentist?" when two are named): it
    would teach the adapter to pick one, and no gate could pass it."""
    answers: dict[str, set[str]] = {}
    for qa in ds.train + ds.validation:
        answers.setdefault(qa.question.lower(), set()).add(qa.expected.lower())
    ok = lambda qa: len(answers[qa.question.lower()]) == 1  # noqa: E731
    return Dataset([qa for qa in ds.train if ok(qa)], [qa for qa in ds.validation if ok(qa)])


def covered_ids(facts: list[Fact], ds: Dataset) -> list[str]:
    """The facts an adapter trained on `ds` holds: those with questions, and statements whose facts have them.
    A statement with nothing to ask about is not held (hybrid keeps it in the prompt)."""
    asked = {qa.fact_id for qa in ds.train + ds.validation}
    return [f.id for f in facts if f.id in asked or (f.derived_from is None and any(
        g.derived_from == f.id and g.id in asked for g in facts))]


def askable(ds: Dataset, facts: list[Fact]) -> list[tuple[str, str, list[str], str]]:
    """(fact id, question, the values it names, its answer) for the questions an adapter trained on `ds` may be
    asked in place of a question worded otherwise (agent.questions.TaughtQuestions): the taught ones, each once,
    except those that name their own answer. A value is any answer the set teaches (a reverse question's role
    aside) or any fact's object ("Since when does Tessaly live in Lowhithe?" names Lowhithe); an adapter answer
    that repeats a value the question names and the asker did not is the rewording's, and is not used
    (agent.questions.told, language.answer_kinds.repeats), so the answer is the weights'. The answer is listed so
    that a question is put in another's place only when its answer is of the kind asked for
    (language.answer_kinds.may_answer)."""
    values = {plain_words(v) for v in [qa.expected for qa in ds.train + ds.validation if qa.kind != "reverse"]
              + [f.object for f in facts if f.object]} - {""}
    named = lambda v, q: f" {v} " in f" {q} "  # noqa: E731
    seen: set[str] = set()
    out = []
    for qa in ds.train:
        q = plain_words(qa.question)
        if qa.kind != "taught" or q in seen or (plain_words(qa.expected) and named(plain_words(qa.expected), q)):
            continue
        seen.add(q)
        out.append((qa.fact_id, qa.question, sorted(v for v in values if named(v, q)), qa.expected))
    return out


def answer_ok(answer: str, expected: str, others: Iterable[str] = ()) -> bool:
    """The answer states `expected` (token spans, not negated) and none of `others` (language.matching)."""
    return states(answer, [expected], others)
