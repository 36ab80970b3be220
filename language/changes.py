"""Changes said in passing. A statement that replaces what the speaker said before often names the new value
with a verb of its own, not the relation it replaces: "I quit Halden Freight and joined Pellam Foods", "I left
Brisk Dental and I'm at Orla Clinic now", "I switched doctors, I see Doctor Fairlie now", "I'm a paralegal these
days". The store supersedes by subject and relation, so here such a value is given the relation it takes the
place of, read from the sentence's structure and the speaker's active facts:

- **replacement**: the sentence ends a stored fact (a verb of ending whose object is the stored value: "quit
  Halden Freight", "sold the Saxby"), and another of its facts names a new value: that value takes the ended
  relation;
- **a change named**: a verb of changing whose object is a stored relation ("switched doctors", "changed
  banks"): the sentence's new value of the kind that relation holds (a fact's object, else a name) takes it;
- **now**: a sentence that marks its time as the present against the past ("now", "these days", "at the moment",
  "new") and says "join X" / "be with X" / "be a <job>": X takes the one stored workplace, partner or job (not
  "I'm at Heathrow now": where someone is at the moment is not a change of workplace);
- **a new name**: "Mottle has a new name, she's Duchess now": a stored value said to be another name, with the
  sentence saying so ("new name", "renamed", "now"), is replaced by it.

Pure logic: the caller (memory_service) passes the speaker's active facts as {relation: object}.
"""

from __future__ import annotations

from dataclasses import dataclass

from .extraction import Triple, norm, statement
from .lexicon import ENDS, JOBS, PARTNERS

NOW = {"now", "nowadays", "currently", "presently"}
NOW_PHRASES = ("these days", "at the moment", "for now", "any more", "anymore", "this year", "from now on")
CHANGING = {"switch", "change", "swap", "replace", "move"}  # "switched doctors", "moved my account"
JOINING = {"join", "start at", "start with"}  # a workplace taken up
OVER = {"over", "gone", "finished", "done", "ended"}  # "the barista job is over", "the Halvik's gone"


@dataclass(frozen=True)
class Change:
    """What a sentence says about time and change, read from its parse (intake)."""
    now: bool = False  # the present marked against the past
    named: tuple[str, ...] = ()  # relations a verb of changing names: "switched doctors" -> ("doctor",)
    names: tuple[str, ...] = ()  # the sentence's proper names, in order ("Doctor Obi")
    new_name: bool = False  # "has a new name", "renamed"
    over: tuple[str, ...] = ()  # what the sentence says is over: "the barista job is over" -> ("the barista job",)


def change_of(sent) -> Change:
    """The Change a parsed sentence (a spaCy Span) marks."""
    text = " " + " ".join(t.lower_ for t in sent) + " "
    now = any(t.lower_ in NOW for t in sent) or any(f" {p} " in text for p in NOW_PHRASES) or any(
        t.lower_ == "new" and t.dep_ == "amod" for t in sent)
    named = tuple(c.lemma_.lower() for t in sent if t.lemma_.lower() in CHANGING
                  for c in t.children if c.dep_ == "dobj" and c.pos_ == "NOUN")
    names, seen = [], set()
    for ent in sent.ents:
        if ent.label_ in ("PERSON", "ORG", "GPE", "FAC", "LOC", "PRODUCT", "WORK_OF_ART"):
            start = ent.start
            # "Doctor Obi": a title before the name is part of how it is said
            if start > sent.start and sent.doc[start - 1].is_title and sent.doc[start - 1].pos_ == "PROPN":
                start -= 1
            names.append(sent.doc[start:ent.end].text)
            seen.update(range(start, ent.end))
    for t in sent:  # a name the tagger gave no entity: the proper noun with the proper nouns compounded into it
        if t.pos_ == "PROPN" and t.i not in seen and t.i > sent.start and t.text[:1].isupper() and not (
                t.dep_ == "compound" and t.head.pos_ == "PROPN"):
            parts = [c for c in t.lefts if c.dep_ == "compound" and c.pos_ == "PROPN"]
            names.append(" ".join(w.text for w in [*parts, t]))
    new_name = any(t.lemma_.lower() == "rename" for t in sent) or any(
        t.lemma_.lower() == "name" and any(c.lower_ == "new" for c in t.children) for t in sent)
    over = tuple(" ".join(w.text for w in c.subtree) for t in sent if t.lower_ in OVER and t.dep_ in (
        "acomp", "advmod", "ROOT", "attr") for c in t.head.children if c.dep_ == "nsubj")
    return Change(now, named, tuple(dict.fromkeys(names)), new_name, over)


def _same_kind(new: str, old: str) -> bool:
    """Whether a new value can take an old one's place: names for names, numbers for numbers."""
    digits = any(ch.isdigit() for ch in new), any(ch.isdigit() for ch in old)
    named = any(w[:1].isupper() for w in new.split()), any(w[:1].isupper() for w in old.split())
    return digits[0] == digits[1] and named[0] == named[1]


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


def _by_preposition(t: Triple, current: dict[str, str]) -> str | None:
    """The one stored relation a value said with "now" takes: "join X" a workplace, "be with X" a partner, "be a
    <job>" a job. Not "be at / in X now": "I'm at Heathrow now" says where the speaker is, not where they work
    (with an ending in the sentence, the replacement rule reads it: "I left Brisk Dental, I'm at Orla Clinic
    now")."""
    if t.relation == "be" and norm(t.object).split()[-1:] and norm(t.object).split()[-1] in JOBS:
        found = [r for r in current if r in ("work as", "be")]
    elif t.relation in JOINING:
        found = [r for r in current if r in ("work at", "work for")]
    elif t.relation == "be with":
        found = [r for r in current if r in PARTNERS]
    else:
        return None
    return found[0] if len(found) == 1 else None


def resolved(triples: tuple[Triple, ...], change: Change, owner: str,
             current: dict[str, str]) -> tuple[Triple, ...]:
    """The sentence's triples with each new value said in passing given the stored relation it replaces
    (`current`: the owner's active facts, relation -> object). Triples that change nothing are returned as
    they are."""
    if not current:
        return triples
    ended = _ended(triples, change, owner, current)
    named = [r for r in dict.fromkeys(change.named) if r in current]
    out, taken = [], set()
    for t in triples:
        relation = None
        if t.subject == owner and t.relation not in current and t.relation not in ENDS:
            for r in ended + named:
                if r not in taken and _same_kind(t.object, current[r]) and norm(t.object) != norm(current[r]):
                    relation = r
                    break
            if relation is None and change.now:
                relation = _by_preposition(t, current)
                if relation is not None and (relation in taken or not _same_kind(t.object, current[relation])):
                    relation = None
        elif t.subject != owner:
            relation = _renamed(t, change, current)
        if relation is None:
            out.append(t)
            continue
        taken.add(relation)
        out.append(Triple(owner, relation, t.object, statement(owner, relation, t.object), t.qualifier, t.answer))
    for r in named:  # "I changed dentists, it's Doctor Obi now": the value is the sentence's new name
        if r in taken:
            continue
        name = next((n for n in change.names if norm(n) != norm(current[r])
                     and _same_kind(n, current[r]) and all(norm(n) != norm(t.object) for t in triples
                                                          if t.relation in ENDS)), None)
        if name:
            out.append(Triple(owner, r, name, statement(owner, r, name), None, "person"))
    return tuple(out)
