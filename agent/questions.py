"""The notes read by the questions they answer. Each topic's short-term facts get the questions consolidation
trains its adapter on (consolidation.synth.build_dataset), embedded once per fact set; a question asked is
matched against them, and the nearest one's short answer is what the notes say to it. Matching a question with
a question is easier than with a statement, and a small model reading notes misreads them (docs/results.md,
"Reading the notes by the questions they answer").

The adapters are asked the same way (TaughtQuestions): a question worded unlike anything an adapter was taught
is put to it as the nearest question it was taught, which it answers from its weights far more often than a
paraphrase (docs/results.md, "Asking an adapter what it was taught")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from consolidation.synth import QA, build_dataset, plain_words
from language.answer_kinds import may_answer
from memory_service.adapter_files import AdapterRef
from memory_service.embed import Embedder
from memory_service.schemas import Fact


@dataclass(frozen=True)
class Match:
    qa: QA
    score: float  # cosine of the asked question and qa.question
    topic: str
    note: str  # the statement of the fact the question was written for, as recall shows it


class QuestionBank:
    def __init__(self, embedder: Embedder, taught_forms: int = 4):
        self.embedder, self.taught_forms = embedder, taught_forms
        # (namespace, topic) -> (key of its fact set, its questions, their unit embeddings, fact id -> note): one
        # set per topic, replaced when the topic's facts change, so a long-lived process holds one per topic
        self._banks: dict[tuple, tuple[tuple, list[QA], np.ndarray, dict[str, str]]] = {}

    def questions(self, key: tuple, facts: list[Fact]) -> tuple[list[QA], np.ndarray]:
        """The topic's questions and their embeddings; `key` is (namespace, topic, fact ids)."""
        return self._bank(key, facts)[1:3]

    def _bank(self, key: tuple, facts: list[Fact]):
        cached = self._banks.get(key[:2])
        if cached is None or cached[0] != key:
            ds = build_dataset(facts, self.taught_forms, short=True)
            seen: set[str] = set()
            qas = [qa for qa in ds.train + ds.validation if not (qa.question in seen or seen.add(qa.question))]
            vectors = self.embedder.embed([qa.question for qa in qas]) if qas else np.zeros((0, self.embedder.dim))
            by_id = {f.id: f for f in facts}
            # a fact read from a statement is shown as the statement, as recall shows it (agent.nodes.as_said)
            notes = {f.id: (by_id.get(f.derived_from) or f).attributed for f in facts}
            self._banks[key[:2]] = cached = (key, qas, vectors, notes)
        return cached

    def nearest(self, by_topic: dict[str, tuple[tuple, list[Fact]]], vector: np.ndarray, asked: str = "",
                least: float = -1.0) -> Match | None:
        """The question nearest `vector` (a unit embedding of the question `asked`) over the topics' facts, when it
        is at least `least` near and its answer of the kind `asked` wants (language.answer_kinds.may_answer; any
        kind, when `asked` is not given). Not the next nearest: the notes answer only for the question they fit best, and
        a question whose nearest one does not fit is left to the adapters and to reading the notes (at 6e642ed,
        which also read the runner-up, it answered three natural probes wrongly)."""
        best = None
        for topic, (key, facts) in by_topic.items():
            _, qas, vectors, notes = self._bank(key, facts)
            if not qas:
                continue
            sims = vectors @ vector
            i = int(np.argmax(sims))
            if best is None or sims[i] > best.score:
                best = Match(qas[i], float(sims[i]), topic, notes.get(qas[i].fact_id, ""))
        if best is None or best.score < least or asked and not may_answer(best.qa.expected, best.qa.question, asked):
            return None
        return best

    def answering(self, by_topic: dict[str, tuple[tuple, list[Fact]]], answer: str) -> list[QA]:
        """The questions over the topics' facts whose answer is `answer` (plain words): what it is the answer to."""
        said = plain_words(answer)
        return [qa for key, facts in by_topic.values() for qa in self._bank(key, facts)[1]
                if said and plain_words(qa.expected) == said]


def nearest_fitting(sims: np.ndarray, asked: str, questions: list[str], answers: list[str | None],
                    least: float = -1.0) -> int | None:
    """Index of the most similar question, at least `least` near, that may stand in for the question `asked`: where
    its answer is known (`answers[i]`), that answer is of the kind `asked` wants
    (language.answer_kinds.may_answer). None when there is none."""
    for i in np.argsort(-sims):
        if sims[i] < least:
            return None
        if answers[i] is None or may_answer(answers[i], questions[i], asked):
            return int(i)
    return None


def told(names: list[str], asked: str) -> tuple[str, ...]:
    """The values a taught question names (plain words) that the question `asked` does not: what putting it in the
    asked one's place tells the adapter. An answer that repeats them is the rewording's, not the weights'
    (language.answer_kinds.repeats)."""
    said = f" {plain_words(asked)} "
    return tuple(v for v in names if f" {v} " not in said)


@dataclass(frozen=True)
class Taught:
    question: str  # the taught question to put to the adapter
    score: float  # cosine of the asked question and this one
    ref: AdapterRef  # the version taught it
    told: tuple[str, ...] = ()  # values the question names that the asker did not (told)
    answer: str | None = None  # what it was taught to answer (its short value), when the manifest lists it


class TaughtQuestions:
    """The questions each adapter version may be asked in its manifest's place ("questions", written at publish by
    consolidation.synth.askable: taught questions that do not name their answer), embedded once per version. Each
    lists the values it names, so that an answer repeating one the asker did not say is known to be the rewording's
    (told), and its answer, which only decides whether it may stand in for a question (of the kind asked for, not
    said by the asker): what the adapter is asked, it answers from its weights."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        # (namespace, topic) -> (version name, its questions, the values each names, their answers, their unit
        # embeddings): versions are immutable, and a new one replaces the old, so a long-lived process holds one
        # set per topic
        self._sets: dict[tuple[str, str], tuple] = {}

    def _set(self, ref: AdapterRef) -> tuple[list[str], list[list[str]], list[str | None], np.ndarray]:
        cached = self._sets.get((ref.namespace, ref.topic))
        if cached is None or cached[0] != ref.name:
            # a version published before manifests listed them has none: it is asked the question as worded
            listed = ref.manifest().get("questions", [])
            questions = [q["question"] for q in listed]
            vectors = self.embedder.embed(questions) if questions else np.zeros((0, self.embedder.dim))
            # versions published before manifests listed answers stand in whatever their answers' kind
            self._sets[(ref.namespace, ref.topic)] = cached = (
                ref.name, questions, [q.get("names", []) for q in listed], [q.get("answer") for q in listed],
                vectors)
        return cached[1:]

    def nearest(self, refs: list[AdapterRef], vector: np.ndarray, asked: str, least: float = -1.0) -> Taught | None:
        """The taught question nearest `vector` (a unit embedding of the question `asked`) over `refs`, at least
        `least` near, that may stand in for `asked` (nearest_fitting)."""
        best = None
        for ref in refs:
            questions, names, answers, vectors = self._set(ref)
            if not questions:
                continue
            sims = vectors @ vector
            i = nearest_fitting(sims, asked, questions, answers, least)
            if i is not None and (best is None or sims[i] > best.score):
                best = Taught(questions[i], float(sims[i]), ref, told(names[i], asked), answers[i])
        return best
