"""What a message states: sentences, each kept verbatim, asked, or skipped as small talk, with the triples read
from it. Pure logic over language.parsing; the service writes what this returns.

The rule (README "What is kept"): every sentence that is not a question and not small talk is stored verbatim,
attributed to its speaker, with the time it was said, whatever else happens; structured facts read from it are
stored beside it and point back to it. Small talk is a sentence made only of greetings, thanks, laughter,
farewells and fillers ("Hi!", "Thanks a lot", "haha"), or a passing state of the speaker with nothing named
("I'm so tired today"). A sentence that names anything (a person, a place, a thing, a number) is never small talk.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from .changes import Change, change_of
from .extraction import (
    Analysis,
    Triple,
    analyze,
    antecedent,
    leans_on_previous,
    refer_addressee,
    refer_subject,
    statement,
)
from .forgetting import ForgetRequest, forget_request
from .lexicon import USER

log = logging.getLogger(__name__)

SPEAKER_USER = "user"  # the person talking to the agent; any other speaker is named ("Caroline")



@dataclass(frozen=True)
class Sentence:
    text: str
    kind: str  # statement | question | small-talk | forget (then `text` is what to forget) | withdrawn
    triples: tuple[Triple, ...] = ()
    why: str | None = None  # why it gave no triple
    context: str | None = None  # the sentence before it in the message, when it leans on it ("He's a chef.")
    everything: bool = False  # a forget request for every statement about its target ("everything about my ex")
    change: Change = field(default_factory=Change)  # what it marks about time and change ("now", "switched doctors"): language.changes


@dataclass(frozen=True)
class Intake:
    speaker: str
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def statements(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kind == "statement"]

    @property
    def questions(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kind == "question"]

    @property
    def forget(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kind == "forget"]

    @property
    def withdrawn(self) -> list[Sentence]:
        """Statements of this message that a later sentence of it asked not to keep ("My PIN is 4471. Please
        don't keep that.")."""
        return [s for s in self.sentences if s.kind == "withdrawn"]

    @property
    def skipped(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kind == "small-talk"]


def reads_as_question(message: str) -> bool:
    """Whether a whole message reads as a question at a glance (it ends with "?" or opens with a wh-word or an
    auxiliary), before any parse: whether a message that kept nothing and asked nothing the parse saw ("Tell me
    about it") is still put to the model. Never a reason not to read a message (the agent reads every one)."""
    m = message.strip().lower()
    return m.endswith("?") or bool(re.match(r"^(who|what|where|when|which|how|why|do|does|did|is|are|can)\b", m))


def subject_of(speaker: str) -> str:
    """Whom "I" means: the user, or a named speaker of a transcript."""
    return USER if speaker.strip().lower() in (SPEAKER_USER, USER, "") else speaker.strip()


def read_messages(texts: list[str], speaker: str = SPEAKER_USER, addressee: str | None = None) -> list[Intake]:
    """One Intake per message (parsed in one batch)."""
    from .parsing import parse

    return read_parsed(parse([t.strip() for t in texts]), speaker, addressee)


def read_parsed(docs: list, speaker: str = SPEAKER_USER, addressee: str | None = None) -> list[Intake]:
    """One Intake per parsed message (spaCy Docs), for a caller that needs the parse too. `addressee`: whom a
    transcript's speaker talks to, which is whom "you" means (the user's "you" is the agent: never read).
    Each sentence is parsed once: what the sentences around it say (whom "he" or "you" means, the place a "there"
    points back to) is marked on its tokens (language.parsing.carried_beside_the_parse) and read again."""
    who = subject_of(speaker)
    addressee = subject_of(addressee) if addressee and subject_of(addressee) != who else None
    out = []
    for doc in docs:
        sentences, before = [], None
        for sent in doc.sents:
            if not sent.text.strip():
                continue
            if (request := forget_request(sent)) is not None:
                _forget(request, sentences)
                before = sent
                continue
            try:
                a, context = _read_sentence(sent, before, sentences, who, addressee)
            except Exception as e:  # noqa: BLE001 -- a parse no rule foresaw: the words are kept all the same, with the reason
                log.warning("could not read %r: %s: %s", sent.text.strip(), type(e).__name__, e)
                kind = "question" if sent.text.strip().endswith("?") else "statement"
                a, context = Analysis(kind, (), f"unreadable ({type(e).__name__})"), None
            if a.kind == "question" and a.triples:  # "Did I mention my dentist is Oriel Tansby?": kept and asked
                sentences.append(Sentence(sent.text.strip(), "statement", a.triples, None, context))
                a = Analysis("question", (), a.why)
            change = change_of(sent) if a.kind == "statement" and a.triples else Change()
            sentences.append(Sentence(sent.text.strip(), a.kind, a.triples, a.why, context, change=change))
            before = sent
        out.append(Intake(speaker, sentences))
    return out


def _forget(request: ForgetRequest, sentences: list[Sentence]) -> None:
    """A request to forget: its target, or, when it points back ("Please don't keep that."), the statement
    before it in this message, which is then withdrawn and never stored; with nothing before it in the message,
    the last statement the speaker stored (target ""). A request after a request ("Could you forget what I said
    about my rent? I'd rather it wasn't kept.") adds nothing."""
    if request.target is not None:
        sentences.append(Sentence(request.target, "forget", everything=request.everything))
    elif sentences and sentences[-1].kind == "statement":
        sentences[-1] = Sentence(sentences[-1].text, "withdrawn", why="withdrawn")
    elif not sentences or sentences[-1].kind not in ("forget", "withdrawn"):
        sentences.append(Sentence("", "forget"))


def _read_sentence(sent, before, sentences: list[Sentence], who: str,
                   addressee: str | None) -> tuple[Analysis, str | None]:
    """What one sentence states, read with the sentence before it, and the text of that sentence when it leans on
    it."""
    a: Analysis = analyze(sent, who)
    context = before.text.strip() if a.kind == "statement" and before and leans_on_previous(sent) else None
    if context and (name := antecedent(sent, before)):
        # "He's head chef at the Brinehook." after "My brother's Dorran.": the facts are Dorran's
        refer_subject(sent, name)
        again = analyze(sent, who)
        a = again if again.triples else a
    elif a.kind == "statement" and addressee and refer_addressee(sent, addressee):
        # "I still can't believe you left Corbel Rail", said to Jorund: Jorund left Corbel Rail; "Says the
        # woman who runs the quiz", said to Tessaly: Tessaly runs the quiz
        again = analyze(sent, who)
        if again.triples:
            a = Analysis(a.kind, tuple(dict.fromkeys([*a.triples, *again.triples])))
    last = sentences[-1].triples if sentences else ()
    if not a.triples and a.kind == "statement" and sentences and (named := fuller_name(sent, last, who)):
        # "I'm Odile, by the way. Odile Carrask.": the whole name, which supersedes the first one
        a = Analysis("statement", (named,))
    elif not a.triples and a.kind == "statement" and said_without_subject(sent, last, who):
        # "Been there since 2019.": the speaker's, as "I've been at Tessgrove Water since 2019."
        again = analyze(sent, who)
        a = again if again.triples else a
    return a, context


def fuller_name(sent, before: tuple[Triple, ...], who: str) -> Triple | None:
    """A sentence that is only a name (proper nouns, no verb) and begins with the name the sentence before gave the
    speaker ("Odile Carrask." after "I'm Odile."): the speaker's whole name."""
    words = [t for t in sent if not t.is_punct]
    if len(words) < 2 or not all(t.pos_ == "PROPN" and t.text[:1].isupper() for t in words):
        return None
    full = " ".join(t.text for t in words)
    for t in before:
        if t.subject == who and t.relation == "name" and full.startswith(f"{t.object} ") and full != t.object:
            return Triple(who, "name", full, statement(who, "name", full), None, "name")
    return None


_SAID_WITHOUT_I = ("VBN", "VBD", "VBG")  # "Been there ...", "Grew up in ...", "Working at ..."


def said_without_subject(sent, before: tuple[Triple, ...], who: str) -> bool:
    """A statement that drops its subject, as people do in chat ("Been there since 2019.", "Moved to Oslo last
    week."; not an imperative, "Go to the shop."): its verb is marked as said by the speaker, and a "there" in it
    as the place the sentence before named ("I'm a hydrologist at Tessgrove Water. Been there since 2019.": the
    speaker has been at Tessgrove Water since 2019). False when the sentence has a subject."""
    first = next((t for t in sent if not t.is_punct), None)
    if first is None or first.dep_ != "ROOT" or first.tag_ not in _SAID_WITHOUT_I or any(
            c.dep_ in ("nsubj", "nsubjpass", "expl") for c in first.children):
        return False
    if first.lemma_ == "be" and any(c.dep_ in ("attr", "acomp") for c in first.children):
        return False  # "Been a long day.", "Been busy.": it has, not I have
    place = next(((t.relation.split()[-1], t.object, t.answer) for t in before
                  if t.relation.split()[-1] in ("at", "in") and t.object[:1].isupper()), None)
    first._.said_by = who
    for t in sent:
        if t.lower_ == "there" and t.dep_ == "advmod" and place:
            t._.place = place
    return True


def read_message(text: str, speaker: str = SPEAKER_USER, addressee: str | None = None) -> Intake:
    return read_messages([text], speaker, addressee)[0]
