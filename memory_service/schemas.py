"""Public data of the short-term tier: what the API, CLI and workers exchange."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .errors import InvalidInput

# Strings that end up in Redis keys or registry paths are checked against these before any use.
NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
TOPIC_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,63})$")

Namespace = Annotated[str, StringConstraints(pattern=NAMESPACE_RE.pattern)]
TopicSlug = Annotated[str, StringConstraints(pattern=TOPIC_RE.pattern, max_length=64)]


def check_namespace(value: str, field: str = "namespace") -> str:
    if not isinstance(value, str) or not NAMESPACE_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid {field} {value!r}: 1-128 characters of letters, digits, '_', '.', '@', '-', "
            "starting with a letter or digit",
            field=field,
        )
    return value


def check_topic(value: str, field: str = "topic") -> str:
    if not isinstance(value, str) or not TOPIC_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid {field} {value!r}: a slug of 1-64 characters [a-z0-9-], starting with [a-z0-9]",
            field=field,
        )
    return value


SHARD_SEP = "--"  # a topic too large for one adapter is split into shards `<topic>--<n>`, one adapter each


def shard_topic(topic: str, i: int, n: int) -> str:
    """The name of shard i (0-based) of n: the topic itself when it is not split; still a valid slug."""
    return topic if n == 1 else f"{topic[:58]}{SHARD_SEP}{i + 1}"


def parent_topic(topic: str) -> str:
    """The topic a shard belongs to (a topic that is not a shard is its own parent)."""
    return topic.split(SHARD_SEP)[0]


class FactStatus(str, Enum):
    active = "active"
    superseded = "superseded"
    deleted = "deleted"


class FactIn(BaseModel):
    """A fact to remember. `text` is the canonical statement; subject/relation/object enable supersede."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., description="Canonical statement, e.g. 'Marla Quenby lives in Lisbon'")
    topic: TopicSlug | None = Field(None, description="Topic slug; omitted = nearest topic or a new one")
    subject: str | None = Field(None, max_length=200)
    relation: str | None = Field(None, max_length=200)
    object: str | None = Field(None, max_length=500)
    source: str | None = Field(None, max_length=200, description="Where it came from (thread/turn)")
    speaker: str | None = Field(None, max_length=200, description="Who said it: 'user' or a speaker's name")
    said_at: datetime | None = Field(None, description="When it was said (default: when it is written)")
    derived_from: str | None = Field(None, max_length=64, description="Id of the statement it was read from")
    qualifier: str | None = Field(None, max_length=200, description="When it holds: 'last week', 'every winter'")
    context: str | None = Field(None, max_length=2000,
                                description="The sentence said just before it, which it leans on ('My brother's "
                                            "Dorran.' before 'He's head chef at the Brinehook.')")


def shown(text: str, context: str | None, speaker: str | None, subject: str | None) -> str:
    """A fact with what it leans on and, for a transcript statement, its speaker's name: what its vector is
    computed from (a question about Tessaly must find "I've been head archivist", said by Tessaly) and, with
    the day, what a prompt shows."""
    said = f"{context} {text}" if context else text
    return f"{speaker}: {said}" if is_named(speaker, subject) else said


def is_named(speaker: str | None, subject: str | None) -> bool:
    """A transcript statement in its speaker's own words ("I ..."), which only the speaker's name explains."""
    return bool(speaker) and speaker != "user" and subject is None


class Fact(BaseModel):
    id: str
    namespace: str
    topic: str
    text: str
    subject: str | None = None
    relation: str | None = None
    object: str | None = None
    source: str | None = None
    created_at: datetime
    status: FactStatus = FactStatus.active
    supersedes: str | None = None
    superseded_by: str | None = None
    consolidated_in: str | None = None
    speaker: str | None = None
    said_at: datetime | None = None
    derived_from: str | None = None
    qualifier: str | None = None
    context: str | None = None

    @property
    def attributed(self) -> str:
        """The fact as a prompt shows it: a statement said in a transcript names its speaker and day
        ("[8 May 2023] Caroline: I went to the support group."); the user's own words are shown as said, after
        the sentence they lean on ("My brother's Dorran. He's head chef at the Brinehook.")."""
        said = shown(self.text, self.context, self.speaker, self.subject)
        if is_named(self.speaker, self.subject) and self.said_at is not None:
            return f"[{self.said_at.day} {self.said_at:%B %Y}] {said}"
        return said


class StoredFact(BaseModel):
    id: str
    text: str
    topic: str
    outcome: "WriteOutcome"
    kind: str = Field(..., description="statement (verbatim, as said) or fact (read from a statement)")
    derived_from: str | None = None
    supersedes: str | None = None
    subject: str | None = None
    relation: str | None = None
    object: str | None = None
    qualifier: str | None = None
    why: str | None = Field(None, description="For a statement that gave no fact: why (negation, question...)")


class Skipped(BaseModel):
    text: str
    reason: str = Field(..., description="small-talk: states nothing durable (greetings, thanks, passing states)")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, description="What was said: one or more sentences")
    speaker: str = Field("user", min_length=1, max_length=200,
                         description="'user', or the speaker's name in a multi-party transcript")
    addressee: str | None = Field(None, min_length=1, max_length=200,
                                  description="Whom a transcript's speaker talks to: whom their \"you\" means")
    said_at: datetime | None = Field(None, description="When it was said (default: now)")
    source: str | None = Field(None, max_length=200)


class Forgotten(BaseModel):
    request: str = Field(..., description="What the message asked to forget")
    deleted: list[Fact] = Field([], description="The facts deleted (a statement with the facts read from it)")
    candidates: list[Fact] = Field([], description="When several stored statements match about equally: "
                                                    "nothing is deleted; ask which one")
    withdrawn: list[str] = Field([], description="Statements of the same message that the request took back "
                                                 "(\"My PIN is 4471. Please don't keep that.\"): never stored")


class MessageResult(BaseModel):
    stored: list[StoredFact] = []
    forgotten: list[Forgotten] = []
    questions: list[str] = Field([], description="Questions in the message (not stored; ask /recall or /chat)")
    skipped: list[Skipped] = []


class WriteOutcome(str, Enum):
    created = "created"
    duplicate = "duplicate"


class WriteResult(BaseModel):
    id: str
    outcome: WriteOutcome
    topic: str
    supersedes: str | None = Field(None, description="Id of the active fact this write superseded")


class RecallHit(BaseModel):
    fact: Fact
    score: float = Field(..., description="Cosine similarity to the query")
    heat: float = Field(..., description="Decayed hit count after this recall")


class TopicInfo(BaseModel):
    namespace: str
    topic: str
    facts: int = Field(..., description="Active facts")
    unconsolidated: int
    hot: int = Field(..., description="Hot unconsolidated facts")
    heat: float = Field(..., description="Decayed hits on the topic")
    due: bool
    stale: bool = Field(False, description="Its adapter holds a fact since deleted or superseded")


StoredFact.model_rebuild()
