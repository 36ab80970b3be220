"""Changes said in passing. A statement that replaces what the speaker said before often names the new value
with a verb of its own, not the relation it replaces: "I quit Halden Freight and joined Pellam Foods", "I left
Brisk Dental and I'm at Orla Clinic now", "I switched doctors, I see Doctor Fairlie now", "the barista job is
over, I'm a paralegal these days". The store supersedes by subject and relation, so here such a value is given
the relation it takes the place of, read from the sentence's structure and the speaker's active facts:

- **replacement**: the sentence ends a stored fact (a verb of ending whose object is the stored value: "quit
  Halden Freight", "sold the Saxby"; or "the barista job is over"), and another of its facts names a new value
  with a verb that value's relation may be said with (lexicon.REPLACED_BY: "joined" a workplace, not "met Tom");
- **a change named**: a verb of changing whose object is a stored relation ("switched doctors", "changed
  banks"): the sentence's value said with such a verb ("I see Doctor Fairlie"), else a name said as what it is
  ("it's Doctor Obi now");
- **now**: "now", "these days", "at the moment" with "be with <a person>" (a partner) or "be a <job>" (a job);
  not "I'm at Heathrow now", which says where someone is;
- **a new name**: "Mottle has a new name, she's Duchess now": a stored value said to be another name, with the
  sentence saying so ("new name", "renamed", "now"), is replaced by it.

A value the speaker already holds under another relation never moves ("I'm with Ana now", Ana being the
sister). Pure logic: the caller (memory_service) passes the speaker's active facts as {relation: object}.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Span

from .extraction import Triple, norm, statement
from .lexicon import (
    CHANGING,
    ENDS,
    JOB_NOUNS,
    JOBS,
    NOW,
    NOW_PHRASES,
    OVER,
    PARTNERS,
    PEOPLE,
    PERSON_REPLACED_BY,
    REPLACED_BY,
)


@dataclass(frozen=True)
class Change:
    """What a sentence says about time and change, read from its parse (intake)."""
    now: bool = False  # the present marked against the past
    named: tuple[str, ...] = ()  # relations a verb of changing names: "switched doctors" -> ("doctor",)
    names: tuple[str, ...] = ()  # proper names said as what something is or whom one sees ("it's Doctor Obi")
    new_name: bool = False  # "has a new name", "renamed"
    over: tuple[str, ...] = ()  # a thing or job the sentence says is over: "the barista job is over"

    @property
    def marked(self) -> bool:
        return self.now or self.new_name or bool(self.named or self.over)


def change_of(sent: Span) -> Change:
    """The Change a parsed sentence marks."""
    text = " " + " ".join(t.lower_ for t in sent) + " "
    now = any(t.lower_ in NOW for t in sent) or any(f" {p} " in text for p in NOW_PHRASES)
    named = tuple(c.lemma_.lower() for t in sent if t.lemma_.lower() in CHANGING
                  for c in t.children if c.dep_ == "dobj" and c.pos_ == "NOUN")
    names = tuple(" ".join(w.text for w in [*(c for c in t.lefts if c.dep_ == "compound" and c.pos_ == "PROPN"), t])
                  for t in sent if t.pos_ == "PROPN" and t.dep_ in ("attr", "dobj", "oprd"))
    new_name = any(t.lemma_.lower() == "rename" for t in sent) or any(
        t.lemma_.lower() == "name" and any(c.lower_ == "new" for c in t.children) for t in sent)
    over = tuple(" ".join(w.text for w in c.subtree) for t in sent if t.lower_ in OVER and t.dep_ in (
        "acomp", "advmod", "ROOT", "attr") for c in t.head.children
        if c.dep_ == "nsubj" and (c.pos_ == "PROPN" or c.lemma_.lower() in JOB_NOUNS))
    return Change(now or new_name and any(t.lower_ == "new" for t in sent), named, names, new_name, over)


def _same_kind(new: str, old: str) -> bool:
    """Whether a new value can take an old one's place: names for names, numbers for numbers."""
    digits = any(ch.isdigit() for ch in new), any(ch.isdigit() for ch in old)
    named = any(w[:1].isupper() for w in new.split()), any(w[:1].isupper() for w in old.split())
    return digits[0] == digits[1] and named[0] == named[1]


def _may_replace(t: Triple, relation: str, old: str) -> bool:
    """Whether the triple's value may take a stored relation's place: of the same kind, said with a verb that
    relation's values are said with."""
    said_with = PERSON_REPLACED_BY if relation in PEOPLE else REPLACED_BY.get(relation, set())
    return t.relation in said_with and _same_kind(t.object, old) and norm(t.object) != norm(old)


def _ended(triples: tuple[Triple, ...], change: Change, owner: str, current: dict[str, str]) -> list[str]:
    """Stored relations the sentence ends: "quit Halden Freight" ends "work at Halden Freight", "sold the
    Saxby" ends "car blue Saxby" (the value said in part), "the barista job is over" ends "work as barista"."""
    out = [r for said in change.over for r, o in current.items()
           if norm(o) and set(norm(o).split()) <= set(norm(said).split())]
    for t in triples:
        if t.subject != owner:
            continue
        for relation in ENDS.get(t.relation, ()):
            old = current.get(relation)
            if old and set(norm(t.object).split()) <= set(norm(old).split()):
                out.append(relation)
    return out


def _renamed(t: Triple, change: Change, current: dict[str, str]) -> str | None:
    """The stored relation whose value the triple says is now called otherwise ("Mottle ... she's Duchess
    now")."""
    if not (change.new_name or change.now) or t.relation not in ("be", "be called", "name"):
        return None
    return next((r for r, o in current.items() if norm(o) == norm(t.subject) and _same_kind(t.object, o)), None)


def _said_now(t: Triple, current: dict[str, str]) -> str | None:
    """The one stored partner a "be with <person>" takes, or the job a "be a <job>" takes, said with "now"."""
    if t.relation == "be" and norm(t.object).split()[-1:] and norm(t.object).split()[-1] in JOBS:
        found = [r for r in current if r == "work as"]
    elif t.relation == "be with" and t.answer == "person":
        found = [r for r in current if r in PARTNERS]
    else:
        return None
    return found[0] if len(found) == 1 and _same_kind(t.object, current[found[0]]) else None


def resolved(triples: tuple[Triple, ...], change: Change, owner: str,
             current: dict[str, str]) -> tuple[Triple, ...]:
    """The sentence's triples with each new value said in passing given the stored relation it replaces
    (`current`: the owner's active facts, relation -> object). Triples that change nothing are returned as
    they are."""
    if not current:
        return triples
    held = {norm(o) for o in current.values()}
    ended = _ended(triples, change, owner, current)
    named = [r for r in dict.fromkeys(change.named) if r in current]
    out, taken = [], set()
    for t in triples:
        relation = None
        if t.subject == owner and t.relation not in current and t.relation not in ENDS and norm(t.object) not in held:
            relation = next((r for r in ended + named if r not in taken and _may_replace(t, r, current[r])), None)
            if relation is None and change.now and (relation := _said_now(t, current)) in taken:
                relation = None
        elif t.subject != owner:
            relation = _renamed(t, change, current)
        if relation is None:
            out.append(t)
            continue
        taken.add(relation)
        out.append(Triple(owner, relation, t.object, statement(owner, relation, t.object), t.qualifier, t.answer))
    for r in named:  # "I changed dentists, it's Doctor Obi now": the value is a name said as what it is
        name = next((n for n in change.names if norm(n) not in held and _same_kind(n, current[r])), None)
        if r not in taken and name:
            kind = "person" if r in PEOPLE else "name"
            out.append(Triple(owner, r, name, statement(owner, r, name), None, kind))
    return tuple(out)
