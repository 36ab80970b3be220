"""What a message states: sentences, each kept verbatim, asked, or skipped as small talk, with the triples read
from it. Pure logic over memory_service.language; the service writes what this returns.

The rule (README "What is kept"): every sentence that is not a question and not small talk is stored verbatim,
attributed to its speaker, with the time it was said, whatever else happens; structured facts read from it are
stored beside it and point back to it. Small talk is a sentence made only of greetings, thanks, laughter,
farewells and fillers ("Hi!", "Thanks a lot", "haha"), or a passing state of the speaker with nothing named
("I'm so tired today"). A sentence that names anything (a person, a place, a thing, a number) is never small talk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .triples import USER, Analysis, Triple, addressed, analyze, antecedent, leans_on_previous, resolved

SPEAKER_USER = "user"  # the person talking to the agent; any other speaker is named ("Caroline")
# "Please forget that I drive a red Halvik", "delete the part about my dentist": a request, not a statement
# ("remove" and "drop" only with what follows them marked: "Drop Hesper a line" is not a request to forget)
FORGET = re.compile(r"^(?:(?:please|pls|can you|could you|kindly)\s+)?(?:(?:forget|delete|erase)\s+"
                    r"(?:that\s+|about\s+|the (?:fact|part|bit) (?:that|about)\s+|what i said about\s+)?|"
                    r"(?:remove|drop)\s+(?:that\s+|the (?:fact|part|bit) (?:that|about)\s+|what i said about\s+))"
                    r"(?P<target>.+?)[.!?]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    text: str
    kind: str  # statement | question | small-talk | forget (then `text` is what to forget)
    triples: tuple[Triple, ...] = ()
    why: str | None = None  # why it gave no triple
    context: str | None = None  # the sentence before it in the message, when it leans on it ("He's a chef.")


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
    def skipped(self) -> list[Sentence]:
        return [s for s in self.sentences if s.kind == "small-talk"]


def subject_of(speaker: str) -> str:
    """Whom "I" means: the user, or a named speaker of a transcript."""
    return USER if speaker.strip().lower() in (SPEAKER_USER, USER, "") else speaker.strip()


def read_messages(texts: list[str], speaker: str = SPEAKER_USER, addressee: str | None = None) -> list[Intake]:
    """One Intake per message (parsed in one batch)."""
    from .language import parse

    return read_parsed(parse([t.strip() for t in texts]), speaker, addressee)


def read_parsed(docs: list, speaker: str = SPEAKER_USER, addressee: str | None = None) -> list[Intake]:
    """One Intake per parsed message (spaCy Docs), for a caller that needs the parse too. `addressee`: whom a
    transcript's speaker talks to, which is whom "you" means (the user's "you" is the agent: never read)."""
    from .language import parse

    who = subject_of(speaker)
    addressee = subject_of(addressee) if addressee and subject_of(addressee) != who else None
    out = []
    for doc in docs:
        sentences, before = [], None
        for sent in doc.sents:
            if not sent.text.strip():
                continue
            if m := FORGET.match(sent.text.strip()):
                sentences.append(Sentence(m.group("target").strip(), "forget"))
                continue
            a: Analysis = analyze(sent, who)
            context = before.text.strip() if a.kind == "statement" and before and leans_on_previous(sent) else None
            if context and (name := antecedent(sent, before)):
                # "He's head chef at the Brinehook." after "My brother's Dorran.": the facts are Dorran's
                again = analyze(next(iter(parse([resolved(sent, name)])[0].sents)), who)
                a = again if again.triples else a
            elif a.kind == "statement" and addressee and (said_to := addressed(sent, addressee)):
                # "I still can't believe you left Corbel Rail", said to Jorund: Jorund left Corbel Rail
                again = analyze(next(iter(parse([said_to])[0].sents)), who)
                if again.triples:
                    a = Analysis(a.kind, tuple(dict.fromkeys([*a.triples, *again.triples])))
            sentences.append(Sentence(sent.text.strip(), a.kind, a.triples, a.why, context))
            before = sent
        out.append(Intake(speaker, sentences))
    return out


def read_message(text: str, speaker: str = SPEAKER_USER, addressee: str | None = None) -> Intake:
    return read_messages([text], speaker, addressee)[0]
