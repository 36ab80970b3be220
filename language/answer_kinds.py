"""Whether an answer fits a question: said by a note (grounded), of the kind the question asks for (a time, a
number, an activity), not an echo of the question. Pure checks over text and its spaCy analysis; the agent uses
them to choose which note or taught question answers (agent.nodes, agent.questions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import (
    FILLER_WORDS,
    FIRST_PERSON,
    FIRST_POSSESSIVE,
    NAMING_VERBS,
    NUMBER_WORDS,
    PEOPLE,
    PLACE_NOUNS,
    TIME_NOUNS,
    TIME_WORDS,
    WH_WORDS,
)
from .parsing import parsed

_HOW_MANY = re.compile(r"\b(how (many|much|old|long|often)|what year|which year|what age)\b")


def asks_how_many(question: str) -> bool:
    """A question whose answer is a number, an age, a year or a duration."""
    return bool(_HOW_MANY.search(question.lower()))


def fits_the_question(answer: str, question: str) -> bool:
    """Whether the answer is of the kind the question asks for, as far as times go. "Which day ...?", "What
    time ...?", "When ...?" want a time ("Which day do we climb?" -> "Mothwick." does not fit); "Which company
    ...?" does not ("on Monday." does not fit), nor does a question that names no time at all ("What did my dad
    do before he retired?" -> "thirty years.")."""
    answer_doc, question_doc = parsed(answer), parsed(question)
    words = [t for t in answer_doc if not (t.is_punct or t.pos_ in ("ADP", "SCONJ", "DET", "CCONJ"))]
    if not words or asks_how_many(question):
        return True
    timed = [t.ent_type_ in ("DATE", "TIME") or t.lemma_.lower() in TIME_NOUNS for t in words]
    asked = [t.head.lemma_.lower() for t in question_doc if t.lower_ in ("which", "what") and t.dep_ == "det"]
    for wh in (t for t in question_doc if t.lower_ == "what" and t.dep_ == "attr" and t.head.lemma_ == "be"):
        # "What's the big instrument ...?", "What is my job?": the noun the copula equates with "what"
        asked += [x.lemma_.lower() for x in wh.head.children if x.dep_ in ("nsubj", "attr") and x is not wh
                  and x.pos_ == "NOUN"]
    when = any(t.lower_ == "when" and t.head.dep_ == "ROOT" for t in question_doc)  # not "When X calls, ...?"
    if asked and asked[0] in TIME_WORDS or when and not asked:
        return any(timed) or any(t.like_num for t in words)
    if asked:  # "Which company ...?"
        return not all(timed)
    said = {t.lemma_.lower() for t in question_doc}
    return not all(timed) or bool(said & TIME_WORDS)


def whole_name(answer: str, note: str) -> bool:
    """False when every place the note says the answer is inside a longer name: "Crumb." in "a bakery called
    Crumb & Ledger", "Velle." in "Caddoc Velle". A part of a name is not the name."""
    core = answer.strip().strip(".!?").strip()
    if not core[:1].isupper():
        return True
    found = list(re.finditer(rf"(?<![\w&'-]){re.escape(core)}(?![\w-])", note))
    return not found or any(not _joined(note[:m.start()], note[m.end():]) for m in found)


def _joined(before: str, after: str) -> bool:
    """Whether a name said between `before` and `after` runs on: "& Ledger" or a capitalised word after it, a
    capitalised word before it that does not start a sentence."""
    if re.match(r"\s*(&|[A-Z][\w'-]*)", after) and not re.match(r"\s*I\b", after):
        return True
    words = before.split()
    return (len(words) >= 2 and words[-1][:1].isupper() and words[-1][-1] not in ".,;:!?)"
            and words[-2][-1] not in ".;:!?]")


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FILLER_WORDS]


def grounded(answer: str, notes: list[str], question: str = "") -> bool:
    """Whether a retrieved note says the answer: its words (fillers aside) appear together, in order, in one note.
    "Ferry pilot." is grounded in "My uncle Anselm works as a ferry pilot."; "Ilsabet." is not in "Gran's name
    is Nessa. She's ninety-one". An answer that only repeats the question ("What's Mum called?" "Mum.", plurals
    aside) says nothing, wherever it is written; nor does one without a number or a date for a question that asks
    for one ("How long did Fitz look after lighthouses?" "Lighthouse keeper."), nor one of another kind than the
    question asks for (fits_the_question: "Which day ...?" "Mothwick."), nor a part of a name the note says
    whole (whole_name: "Crumb." in "Crumb & Ledger")."""
    if says_nothing_new(answer, question) or not _numbered(answer, question):
        return False
    key = _content_words(answer)
    for note in notes:
        words = _content_words(note)
        if any(words[i:i + len(key)] == key for i in range(len(words) - len(key) + 1)) and whole_name(answer, note):
            # the parse only for an answer a note says (the common case of a wrong adapter answer costs none)
            return not question or fits_the_question(answer, question)
    return False


@lru_cache(maxsize=1024)  # asked once per candidate question while the nearest fitting one is sought
def asked_kind(question: str) -> str | None:
    """What a question asked in the user's words wants, as far as its analysis tells: "act" ("What does my sister
    do?", "What did my dad do before he retired?": what is the object of "do"), "count" ("How many ...?"),
    "thing" ("What does Tessaly host on Thursdays?": what is the object of another verb, one that does not name,
    or of its preposition: "What would I see Pozous driving around in?"),
    "person" ("Who ...?", "Which friend ...?"), "place" ("Where ...?", "Which town ...?", "What is the capital of
    ...?"), else None (any kind)."""
    if re.search(r"(?i)\bhow (many|much)\b", question):
        return "count"
    doc = parsed(question)
    for t in doc:
        if t.lower_ == "what" and t.dep_ == "dobj":
            verb = t.head.lemma_.lower()
            if verb == "do":
                return "act"
            if verb not in NAMING_VERBS | {"be", "have", "know", "mean", "say"}:
                return "thing"
        if t.lower_ == "what" and t.dep_ == "pobj" and t.head.head.pos_ == "VERB" \
                and t.head.head.lemma_.lower() not in NAMING_VERBS | {"be"}:
            return "thing"  # "What would I see Pozous driving around in?": a thing, not "where"
    for t in doc:
        if t.lower_ in ("who", "whom") or (t.lower_ in ("which", "what") and t.dep_ == "det"
                                           and t.head.lemma_.lower() in PEOPLE):
            return "person"
        if t.lower_ == "where":
            return "place"
    return "place" if asks(question).noun in PLACE_NOUNS else None


_WHICH_PLACE = re.compile(rf"(?i)\b(which|what) ({'|'.join(sorted(PLACE_NOUNS))})\b")


@dataclass(frozen=True)
class Asks:
    """What a question asks for, read off its parse: an instance of `noun` ("Which band ...?" -> band, "What is the
    name of my dog?" -> dog, "What breed is our dog?" -> breed), a name (`naming`: "Who ...?", "... called?",
    "the name of ..."), the slot of its verb the wh-word fills (`slot`: ("play", "in") for "What does Fennimore
    play in?", ("keep", "dobj") for "What does Caddoc keep?"), and the other nouns it says (`given`)."""
    noun: str | None
    naming: bool
    slot: tuple[str, str] | None
    given: frozenset[str]
    filled: frozenset[tuple[str, str]]  # the slots of its verbs filled by a word other than the wh-phrase
    counted: str | None  # the noun of "how many N"


@lru_cache(maxsize=2048)
def asks(question: str) -> Asks:
    doc = parsed(question)
    wh = next((t for t in doc if t.lower_ in WH_WORDS), None)
    noun = slot = counted = None
    # "Who ...?", "how is my sister named?", "When X calls their pet, which name do they use?"
    naming = wh is not None and wh.lower_ in ("who", "whom") or any(t.lemma_.lower() in NAMING_VERBS for t in doc)
    phrase: set[int] = set()
    if wh is None:  # "Tell me the phone number of X.", "Give me X's number": what the request is for
        noun = next((t for t in doc if t.dep_ == "dobj" and t.head.dep_ == "ROOT" and t.pos_ == "NOUN"), None)
        if noun is not None and noun.lemma_.lower() == "name":
            noun = _named_by(noun)
        if noun is not None:
            phrase.add(noun.i)
    else:
        phrase.add(wh.i)
        target = wh
        if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
            noun, target = wh.head, wh.head
        elif wh.lower_ == "what":
            verb = wh.head.head if wh.head.dep_ in ("auxpass", "aux") else wh.head
            if verb.lemma_.lower() in NAMING_VERBS:
                naming = True
                # the thing named: "What did Brisa name her boat?", "What is my dog called?"
                named = [c for c in verb.children if c.dep_ in ("dobj", "nsubjpass", "nsubj") and c is not wh
                         and c.pos_ in ("NOUN", "PROPN")]
                noun = min(named, key=lambda c: ("dobj", "nsubjpass", "nsubj").index(c.dep_), default=None)
            elif verb.lemma_ == "be":
                noun = next((c for c in verb.children if c.dep_ in ("nsubj", "attr") and c is not wh
                             and c.pos_ == "NOUN"), None)
        if noun is not None and noun.lemma_.lower() == "name":
            naming = True
            phrase.add(noun.i)
            noun = _named_by(noun)
        if noun is not None:
            phrase.add(noun.i)
        # a name asked for fills no slot ("What did Brisa name her boat?": the wh-word is the name, not an object)
        if not naming and target.dep_ == "pobj" and target.head.dep_ == "prep":
            slot = (target.head.head.lemma_.lower(), target.head.lower_)
        elif not naming and target.dep_ == "dobj":
            slot = (target.head.lemma_.lower(), "dobj")
        if wh.lower_ == "how":
            many = next((t for t in doc[wh.i + 1:wh.i + 2] if t.lower_ in ("many", "much")), None)
            counted = many.head.lemma_.lower() if many is not None and many.head.pos_ == "NOUN" else None
    filled = set()
    for t in doc:
        if t.i in phrase or t.lower_ in WH_WORDS:
            continue
        if t.dep_ == "dobj":
            filled.add((t.head.lemma_.lower(), "dobj"))
        elif t.dep_ == "pobj" and t.head.dep_ == "prep":
            filled.add((t.head.head.lemma_.lower(), t.head.lower_))
    given = frozenset(t.lemma_.lower() for t in doc if t.pos_ == "NOUN" and t.i not in phrase)
    return Asks(noun.lemma_.lower() if noun is not None else None, naming, slot, given, frozenset(filled), counted)


def _named_by(name):
    """What a "name" is the name of: "the name of my dog", "my dog's name" -> dog; None for "her name"."""
    of = next((c for c in name.children if c.lower_ == "of"), None)
    return next((c for c in (of.children if of is not None else name.children)
                 if c.dep_ in ("pobj", "poss") and c.pos_ in ("NOUN", "PROPN")), None)


def _counted(answer: str) -> str | None:
    """The noun a number in the answer counts ("eight years." -> "year")."""
    for t in parsed(answer):
        if t.pos_ == "NOUN" and any(c.dep_ == "nummod" or c.like_num for c in t.children):
            return t.lemma_.lower()
    return None


def same_question(answer: str, question: str, asked: str) -> bool:
    """Whether `question` (answered by `answer`) asks what `asked` asks, as far as their parses tell, not for
    something `asked` already names: it asks for an instance of a noun that `asked` says as given ("What is my
    dog called?" for "What breed is our dog?", "Which band does Fennimore play in?" for "What does Fennimore play
    in the band?"), unless both ask for a name; its wh-word fills a slot of a verb that `asked` fills with a
    word ("What does Fennimore play in?" for the same); or it counts other things than "how many N" asks for
    ("eight years." for "How many times ...?")."""
    a, q = asks(asked), asks(question)
    if q.noun and q.noun in a.given and q.noun != a.noun and not (a.naming and q.naming):
        return False
    if q.slot and q.slot in a.filled and q.slot != a.slot:
        return False
    counts = _counted(answer) if a.counted else None
    return not (a.counted and counts and counts != a.counted)


_WH = re.compile(r"(?i)\b(where|who|whom|whose|when|what|which|how)\b")
_KIND_OF_WH = {"where": "place", "who": "person", "whom": "person", "whose": "person", "when": "time"}
# what a question of one kind may not be put in place of: a job is not a place, a person or a time ...
_CLASHES = {"act": {"place", "person", "time"}, "thing": {"place", "person", "time"}, "person": {"place", "time"},
            "place": {"person", "time"}, "count": {"place", "person", "time"}}


def taught_kind(question: str) -> str | None:
    """The kind a synthesized question asks for, read off its wh-word ("Where does Dorran work?" -> "place";
    "Every winter the user go skiing where?" -> "place"): synthesis picks the wh-word by the answer's kind; and a
    person for the name of one ("What is the name of Tessaly's husband?"); a place for "which city", "what town"."""
    m = _WH.search(question)
    kind = _KIND_OF_WH.get(m.group(1).lower()) if m else None
    if kind is None and m and m.group(1).lower() == "what" and re.search(r"(?i)\b(name|called)\b", question):
        q = asks(question)
        kind = "person" if q.naming and q.noun in PEOPLE else None
    if kind is None and (asks(question).noun in PLACE_NOUNS or _WHICH_PLACE.search(question)):
        kind = "place"  # "In which city does Pozous live?" (the parser need not hang "which" on "city")
    return kind


def says_nothing_new(answer: str, question: str) -> bool:
    """The answer only repeats what the question says ("What's Emeric building in the garage?" "garage."), plurals
    aside; an empty answer says nothing either."""
    key = _content_words(answer)
    stem = lambda words: {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words}  # noqa: E731
    return not key or stem(key) <= stem(_content_words(question))


def may_answer(answer: str, question: str, asked: str) -> bool:
    """Whether `question`, whose answer is `answer`, may stand in for the question `asked`: its answer is not
    something the asker said, is a number when `asked` wants one, a time exactly when `asked` wants one
    (fits_the_question), and it asks for a kind that `asked` can take ("What does X do?" is not answered by
    "Where does X work?" nor by a name, "Which friend ...?" not by "... where?"), and it asks what `asked` asks
    (same_question). It compares kinds, not facts: which fact answers is the embedding's choice."""
    if says_nothing_new(answer, asked) or not _numbered(answer, asked):
        return False
    kind = asked_kind(asked)
    if taught_kind(question) in _CLASHES.get(kind, ()) or not same_question(answer, question, asked):
        return False
    if kind == "act" and _proper_name(answer):
        return False  # "What does Dorran do?" is not answered by a name ("Brinehook"): a job or an activity is not
    return fits_the_question(f"{answer.strip().rstrip('.')}.", asked)


def _proper_name(answer: str) -> bool:
    words = re.findall(r"[\w'-]+", answer)
    return bool(words) and all(w[:1].isupper() or w.lower() in ("of", "the", "and", "&") for w in words)


def _numbered(answer: str, question: str) -> bool:
    """False when the question asks how many (or how old, what year ...) and the answer holds no number."""
    key = _content_words(answer)
    return not asks_how_many(question) or bool(set(key) & NUMBER_WORDS) or any(w.isdigit() for w in key)


def repeats(answer: str, values: tuple[str, ...] | list[str]) -> bool:
    """Whether the answer says a word of one of `values` ("Ruari Penhask organises it." repeats "ruari penhask")."""
    said = set(_content_words(answer))
    return any(w in said for v in values for w in _content_words(v))


# --- whether a question is about the memory at all ----------------------------------------------------------


def held_words(texts: list[str]) -> frozenset[str]:
    """The words of a namespace's facts, lower-cased, each also without a plural "s", for `about_memory`."""
    lowered = [text.lower().replace("\u2019", "'") for text in texts]
    # "ruari's" and "o'neill" whole, and their parts: the parse splits one and keeps the other
    words = {w for text in lowered for w in re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text)}
    words |= {part for w in words for part in re.findall(r"[a-z0-9]+", w)}
    return frozenset(words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3})


def about_memory(question: str, held: frozenset[str]) -> bool:
    """Whether a question may be answered from memory: it speaks of the user ("my", "we", ...) or names something
    the memory's facts name (a person, a place, a thing). One that does neither asks about the world ("What is
    the plural of child?", "Which planet has rings?"), and neither adapters nor notes answer it: a topic's
    nearest fact is near it by chance, and the adapter says that fact's answer. A question that names nothing
    ("What happened yesterday?") may be about memory."""
    personal, named = _names(question)
    return personal or not named or any(w in held for pair in named for w in pair)


@lru_cache(maxsize=1024)
def _names(question: str) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """Whether the question says "I" or "we", and the (word, lemma) of each noun or name it says but times."""
    doc = parsed(question)
    named = tuple((t.lower_, t.lemma_.lower()) for t in doc if t.pos_ in ("NOUN", "PROPN") and not t.is_stop
                  and t.lower_ not in TIME_NOUNS and t.lemma_.lower() not in TIME_NOUNS)
    return any(t.lower_ in (FIRST_PERSON | FIRST_POSSESSIVE) for t in doc), named
