"""Training questions for any fact, written from its analysis rather than from a table of relations.

Forms come in a fixed order: direct, cleft, embedded ("Do you know ..."), tell ("Tell me ..."); the last is the
one synthesis holds out for validation (a yes/no-shaped "Do you know" invites a small model to answer "Yes").

Pure logic. A fact (subject, relation, object) gets a wh-word chosen by what its object is (a person: who; a
place: where; a time: when; a number: how many / how old; anything else: what), in several distinct forms (a
direct question, a cleft, an embedded "do you know", an imperative "tell me"), about the subject and, for a person
named by a role ("my supervisor is Maren Coyle"), in reverse ("Who is Maren Coyle?"). A verbatim statement
without a triple gets an echo question for each name, place, number and date in it ("Jon lost his job when?").

The relation grammar is the extractor's (language.extraction): a verb lemma with its particle and preposition
("grow up in", "work as", "be allergic to", "be born in"), or a possessed noun ("uncle", "supervisor at Ostwin",
"phone number").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extraction import done_at, third_person
from .lexicon import (
    BASE_FORMS,
    COMMON_VERBS,
    FIRST_PERSON_AS_NAMED,
    IRREGULAR_PAST,
    JOBS,
    MONTHS,
    NAMED_PLACES,
    PARTICLES,
    PAST_WORDS,
    PEOPLE,
    PLACE_PREPS,
    POSSESSED_HEADS,
    PREPOSITIONS,
    SMALL_NUMBERS,
    STATES,
    THIRD_PERSON_AUX,
    TIME_GLUE,
    TIME_NOUNS,
    TRAVEL,
    USER,
    WEEKDAYS,
)


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str  # what a right answer names
    form: str  # direct | cleft | embedded | tell | reverse | echo


def _possessive(subject: str) -> str:
    return "my" if subject == USER else f"{subject}'s"


def _who(subject: str) -> str:
    return "I" if subject == USER else subject


def _past(verb: str) -> str:
    if verb in IRREGULAR_PAST:
        return IRREGULAR_PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ied"
    return verb + "ed"


def base_form(verb: str) -> str:
    """"lives" -> "live", "teaches" -> "teach", "studies" -> "study": a relation written conjugated, as a
    structured fact may give it ("lives in"), asked like one written as the extractor writes it (a lemma)."""
    if verb in BASE_FORMS:
        return BASE_FORMS[verb]
    if re.search(r"[^aeiou]ies$", verb):
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z)es$", verb):
        return verb[:-2]
    if re.search(r"[^su]s$", verb):
        return verb[:-1]
    return verb


def base_relation(relation: str) -> str:
    """"lives in" -> "live in"."""
    words = relation.split()
    return " ".join([base_form(words[0]), *words[1:]]) if words else relation


def wh_word(kind: str, relation: str) -> str:
    if relation == "age":
        return "how old"
    return {"person": "who", "place": "where", "time": "when", "number": "what"}.get(kind, "what")


def is_verb_relation(relation: str) -> bool:
    """"grow up in", "be allergic to", "drive" are verbs; "uncle", "supervisor at Ostwin" are possessed nouns."""
    words = relation.split()
    return bool(words) and (words[0] == "be" or len(words) > 1 and words[1] in PREPOSITIONS | PARTICLES
                            and words[0] not in POSSESSED_HEADS or words[0] in COMMON_VERBS)


def fact_questions(subject: str, relation: str, obj: str, kind: str = "thing", past: bool = False) -> list[Pair]:
    """Distinct questions whose answer is `obj`: taught forms first, the last one meant for validation."""
    rel = relation.strip()
    if rel == "age":
        s = _who(subject)
        verb = "am" if subject == USER else "is"
        return [Pair(f"How old {verb} {s}?", obj, "direct"),
                Pair(f"What is {_possessive(subject)} age?", obj, "cleft"),
                Pair(f"Do you know how old {s} {verb}?", obj, "embedded"),
                Pair(f"Tell me how old {s} {verb}.", obj, "tell")]
    if rel in ("phone number", "email"):
        what = "phone number" if rel == "phone number" else "email address"
        if subject == USER:
            return [Pair(f"What is my {what}?", obj, "direct"), Pair(f"Which {what} did I give you?", obj, "cleft"),
                    Pair(f"Do you know my {what}?", obj, "embedded"), Pair(f"Tell me my {what}.", obj, "tell")]
        return [Pair(f"What is the {what} of {subject}?", obj, "direct"),
                Pair(f"What is {subject}'s {what}?", obj, "cleft"),
                Pair(f"Do you know {subject}'s {'number' if rel == 'phone number' else 'email'}?", obj, "embedded"),
                Pair(f"How can I reach {subject}?", obj, "tell")]
    if rel in ("name", "be called"):
        return _name_questions(subject, obj)
    if is_verb_relation(rel):
        return _verb_questions(subject, rel, obj, kind, past)
    return _noun_questions(subject, rel, obj, kind)


def _name_questions(subject: str, obj: str) -> list[Pair]:
    """"Gran's name is Nessa", "I'm Odile", "the shop is called Crumb & Ledger": what the subject is called."""
    if subject == USER:
        return [Pair("What is my name?", obj, "direct"), Pair("What am I called?", obj, "cleft"),
                Pair("Do you know what my name is?", obj, "embedded"), Pair("Tell me my name.", obj, "tell")]
    return [Pair(f"What is {subject}'s name?", obj, "direct"), Pair(f"What is {subject} called?", obj, "cleft"),
            Pair(f"Do you know what {subject} is called?", obj, "embedded"),
            Pair(f"Tell me what {subject} is called.", obj, "tell")]


def is_person_role(rel: str) -> bool:
    head = rel.split(" at ")[0].split(" from ")[0].split()[-1] if rel.split() else ""
    return head in PEOPLE or head.split("-")[0] in PEOPLE


def _noun_questions(subject: str, rel: str, obj: str, kind: str) -> list[Pair]:
    """"my uncle is Tavish", "Maren's husband is Jory", "my favourite colour is teal"."""
    owner = _possessive(subject)
    person = is_person_role(rel) or kind == "person"
    wh = "who" if person and not rel.startswith("favourite") else wh_word(kind, rel)
    if wh == "what" and kind == "time":
        wh = "when"
    if wh == "what" and kind in ("name", "thing") and obj[:1].isupper() and rel.split()[-1].isalpha():
        # "my dog is Ferrow": a name, not a kind of thing
        return [Pair(f"What is {owner} {rel} called?", obj, "direct"),
                Pair(f"What is the name of {owner} {rel}?", obj, "cleft"),
                Pair(f"Do you know what {owner} {rel} is called?", obj, "embedded"),
                Pair(f"Tell me what {owner} {rel} is called.", obj, "tell")]
    pairs = [Pair(f"{wh.capitalize()} is {owner} {rel}?", obj, "direct")]
    if wh == "who":
        pairs += [Pair(f"What is the name of {owner} {rel}?", obj, "cleft"),
                  Pair(f"Do you know what {owner} {rel} is called?", obj, "embedded"),
                  Pair(f"Tell me who {owner} {rel} is.", obj, "tell")]
    else:
        pairs += [Pair(f"What did {'I' if subject == USER else subject} say {'my' if subject == USER else 'their'} "
                       f"{rel} {'was' if kind != 'time' else 'is'}?", obj, "cleft"),
                  Pair(f"Do you know {wh} {owner} {rel} is?", obj, "embedded"),
                  Pair(f"Tell me {owner} {rel}.", obj, "tell")]
    return pairs


def type_noun(doc, name: str) -> str | None:
    """The common noun a name is given to in the parsed sentence: "orchestra" for "a community orchestra, the
    Quenmere Sinfonia", "band" for "a band called the Sallow Kites"; the kind of place a name ends in ("Hobsfold
    Library"); "language" for a nationality said as a bare object ("learning Portuguese"); "instrument" for what
    one plays with "the" ("the cello").
    None when the sentence gives none."""
    words = name.split()
    if len(words) > 1 and words[-1].lower() in NAMED_PLACES:
        return words[-1].lower()
    last = words[-1]
    for tok in doc:  # "I've played the cello": what one plays with "the" is an instrument ("play football" not)
        if tok.text == last and len(words) == 1 and tok.dep_ == "dobj" and tok.head.lemma_ == "play" \
                and any(c.dep_ == "det" and c.lower_ == "the" for c in tok.children):
            return "instrument"
    if not name[:1].isupper():
        return None
    for tok in doc:
        if tok.text == last and len(words) == 1 and tok.ent_type_ == "NORP" and tok.dep_ == "dobj" \
                and not any(c.dep_ == "det" for c in tok.children):
            return "language"
    for tok in doc:
        if tok.text != last:
            continue
        head = tok
        while head.dep_ == "compound" or head.dep_ == "flat":
            head = head.head
        if head.dep_ == "appos" and head.head.pos_ == "NOUN":
            return head.head.lemma_.lower()
        if head.dep_ in ("oprd", "attr", "dobj") and head.head.lemma_ in ("call", "name") \
                and head.head.dep_ == "acl" and head.head.head.pos_ == "NOUN":
            return head.head.head.lemma_.lower()
    return None


def typed_questions(subject: str, rel: str, obj: str, noun: str, past: bool = False) -> list[Pair]:
    """"Which band does Fennimore play in?", "What is the name of Fennimore's band?": a name asked for by what
    it names, as people ask ("Which orchestra do I play in?"), where the relation alone does not say it."""
    if noun in rel.split() or noun in PEOPLE or noun in JOBS or is_person_role(rel):
        return []  # "a little girl, Lottabel" is a daughter; "head chef ... called the Brinehook" misattached
    # "my orchestra" is mine; "my language", "my valley" are not (the noun is not the sentence's)
    owned = noun not in ("language", "instrument") and noun not in obj.lower().split()
    pairs = [Pair(f"What is the name of {_possessive(subject)} {noun}?", obj, "typed")] if owned else []
    direct = " ".join(fact_questions(subject, rel, obj, "name", past)[0].question.split())
    prep = rel.split()[-1]
    if direct.startswith("Where ") and prep in PLACE_PREPS:  # "Where does Tessaly work?" -> "... work at?"
        direct = f"What {direct[len('Where '):-1]} {prep}?"
    if direct.startswith("What ") and is_verb_relation(rel):
        pairs.insert(0, Pair(f"Which {noun} {direct[len('What '):]}", obj, "typed"))
    return pairs


def reverse_questions(subject: str, rel: str, obj: str) -> list[Pair]:
    """"Who is Maren Coyle?" for "my supervisor at Ostwin is Maren Coyle": the answer names the role."""
    role = rel.split(" at ")[0].split(" from ")[0]
    owner = "your" if subject == USER else f"{subject}'s"
    return [Pair(f"Who is {obj}?", f"{obj} is {owner} {rel}", "reverse"),
            Pair(f"Whose {role} is {obj}?", "yours" if subject == USER else subject, "reverse")]


def doer_question(subject: str, rel: str, obj: str, kind: str, past: bool = False) -> Pair | None:
    """"Who organises the whole trip?" -> "Ruari Penhask" for what a named person does: the fact asked in
    reverse, as people ask it ("Which friend of mine plans the ski trip?"). None for the user (whose answer would
    be "you"), a state ("be", "have"), a time or a job."""
    rel = base_relation(rel)
    words = rel.split()
    if subject == USER or not subject[:1].isupper() or not is_verb_relation(rel) or kind == "time" \
            or words[0] in ("be", "have") or rel == "work as":
        return None
    verb = _past(words[0]) if past else third_person(words[0])
    return Pair(" ".join(f"Who {verb} {' '.join(words[1:])} {obj}?".split()), subject, "doer")


def manner_question(subject: str, rel: str, obj: str, past: bool = False) -> Pair | None:
    """"How do I get to work?" -> "cycling" for "I've started cycling to work": how people ask for the means of
    a journey the verb names. None for any other relation."""
    words = base_relation(rel).split()
    if len(words) != 2 or words[1] != "to" or words[0] not in TRAVEL:
        return None
    s = _who(subject)
    aux = "did" if past else ("do" if subject == USER else "does")
    return Pair(f"How {aux} {s} get to {obj}?", TRAVEL[words[0]], "manner")


def _verb_questions(subject: str, rel: str, obj: str, kind: str, past: bool) -> list[Pair]:
    words = rel.split()
    prep = words[-1] if len(words) > 1 and words[-1] in PREPOSITIONS else ""
    core = words[:-1] if prep else words
    wh = wh_word(kind, rel)
    if rel in ("work at", "study at", "live in", "grow up in", "be born in", "be from", "stay in", "ski in", "work in"):
        wh = "where"
    elif prep in ("as",) or kind in ("name", "thing") and wh == "where":
        wh = "what"
    elif prep in ("to", "with") and kind in ("person", "name") and core[0] != "move":
        wh = "who"
    tail = "" if (wh in ("where", "when") and prep in PLACE_PREPS) else (f" {prep}" if prep else "")
    s = _who(subject)
    if core[0] == "be":  # "be allergic to", "be born in", "be married to"
        rest = " ".join(core[1:])
        be = ("was" if subject != USER else "was") if past or rest in ("born", "raised") else (
            "am" if subject == USER else "is")
        direct = f"{wh.capitalize()} {be} {s} {rest}{tail}?"
        embedded = f"Do you know {wh} {s} {be} {rest}{tail}?"
        tell = f"Tell me {wh} {s} {be} {rest}{tail}."
        cleft = f"{wh.capitalize()} is it that {s} {be} {rest}{tail}?"
    else:
        verb, extra = core[0], " ".join(core[1:])
        aux = "did" if past else ("do" if subject == USER else "does")
        conj = _past(verb) if past else (verb if subject == USER else third_person(verb))
        mid = f"{verb} {extra}".strip()
        said = f"{conj} {extra}".strip()
        if rel == "work as":
            return [Pair(f"What {'do' if subject == USER else 'does'} {s} do for a living?", obj, "direct"),
                    Pair(f"What is {_possessive(subject)} job?", obj, "cleft"),
                    Pair(f"Do you know what {s} {conj} as?", obj, "embedded"),
                    Pair(f"Tell me what {s} {conj} as.", obj, "tell")]
        direct = f"{wh.capitalize()} {aux} {s} {mid}{tail}?"
        cleft = f"{wh.capitalize()} is it that {s} {said}{tail}?"
        tell = f"Tell me {wh} {s} {said}{tail}."
        embedded = f"Do you know {wh} {s} {said}{tail}?"
    return [Pair(" ".join(q.split()), obj, form)  # "What am I in?" for "be in" (no word between)
            for q, form in ((direct, "direct"), (cleft, "cleft"), (embedded, "embedded"), (tell, "tell"))]


# --- when it happened -----------------------------------------------------------------------------------------------


def _day(d) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def when_said(said_at, qualifier: str | None) -> str | None:
    """The date an event took place, from when it was said and how ("yesterday", "last week", "two days ago");
    None when the qualifier is not a point in the past ("every summer", "soon")."""
    from datetime import timedelta

    if said_at is None:
        return None
    q = " ".join((qualifier or "").lower().split())
    if q in ("", "today", "this morning", "this afternoon", "this evening", "tonight", "just now", "earlier today"):
        return _day(said_at)
    if q in ("yesterday", "last night", "yesterday morning", "yesterday evening"):
        return _day(said_at - timedelta(days=1))
    if q in ("last week", "last weekend"):
        return f"the {q.split()[1]} before {_day(said_at)}"
    if q == "last month":
        first = said_at.replace(day=1) - timedelta(days=1)
        return f"{MONTHS[first.month - 1]} {first.year}"
    if q == "last year":
        return str(said_at.year - 1)
    if m := re.fullmatch(r"(a couple of|a few|a|one|two|three|four|five|six|\d+) (day|week)s? ago", q):
        n = SMALL_NUMBERS.get(m.group(1)) or int(m.group(1))
        if m.group(2) == "day":
            return _day(said_at - timedelta(days=n))
        return f"{n} week{'s' if n > 1 else ''} before {_day(said_at)}"
    return None


def _told_as_event(subject: str, text: str) -> bool:
    """"Gina launched an ad campaign." (a verb follows the subject), not "Gina's sister is Ana"."""
    if not text.lower().startswith(subject.lower()):
        return False
    rest = text[len(subject):]
    words = rest.split()
    return bool(words) and not rest.startswith("'") and words[0].lower() not in (
        "is", "was", "are", "were", "am", "has", "had", "have")


def when_question(subject: str, rel: str, obj: str, said_at, qualifier: str | None, past: bool,
                  text: str = "") -> Pair | None:
    """"When did Gina launch ad campaign?" -> "the week before 9 June 2023" for an event told in the past tense
    (or with a past time expression), dated by when it was said. `text`: the fact's canonical sentence, which
    tells a verb ("launch") from a possessed noun ("job") where the relation alone cannot."""
    rel = base_relation(rel)
    words = rel.split()
    if not words or words[0] in STATES or not (is_verb_relation(rel) or _told_as_event(subject, text)):
        return None
    q = (qualifier or "").lower()
    if not (past or q.startswith(("yesterday", "last")) or q.endswith("ago")):
        return None
    answer = when_said(said_at, qualifier)
    if answer is None:
        return None
    return Pair(f"When did {_who(subject)} {' '.join(words)} {obj}?", answer, "when")


def when_it_holds(qualifier: str | None) -> str | None:
    """The part of a qualifier a "when" question can ask for: a date, a year, a weekday, a month, "every winter",
    "since ..." ("since 2016", "on Sunday mornings"); None for a vague or relative one ("these days", "last
    week": the latter is dated by when_question)."""
    q = " ".join((qualifier or "").replace(";", " ").split())
    low = q.lower()
    if not q or low.startswith(("last", "next", "this", "yesterday", "today", "tonight", "now")) or "ago" in low:
        return None
    if re.search(r"\d", q) or low.startswith(("every", "since")) or any(
            w in low.split() or w + "s" in low.split() for w in WEEKDAYS + tuple(m.lower() for m in MONTHS)):
        return q
    return None


def qualifier_question(subject: str, rel: str, obj: str, qualifier: str | None, past: bool) -> Pair | None:
    """"Since when does Tessaly live in Lowhithe?" -> "since 2016", "When do I climb at Cragloft?" -> "on Sunday
    mornings": the time a fact holds, which the extractor keeps out of its object."""
    when = when_it_holds(qualifier)
    rel = base_relation(rel)
    words = rel.split()
    if when is None or not words or not is_verb_relation(rel) or rel == "work as":
        return None
    wh = "Since when" if when.lower().startswith("since") else "When"
    past = past and wh == "When"  # "I've lived there since 2016" still holds
    s = _who(subject)
    if words[0] == "be":
        be = "was" if past else ("am" if subject == USER else "is")
        return Pair(f"{wh} {be} {s} {' '.join(words[1:])} {obj}?".replace("  ", " "), when, "when")
    aux = "did" if past else ("do" if subject == USER else "does")
    return Pair(f"{wh} {aux} {s} {rel} {obj}?", when, "when")


def start_question(subject: str, rel: str, obj: str, qualifier: str | None) -> Pair | None:
    """What "since" says of a beginning: "I've been at Tessgrove Water since 2019" -> "When did I start at
    Tessgrove Water?" -> "2019"; "Tessaly has lived in Lowhithe since 2016" -> "When did Tessaly start to live in
    Lowhithe?". People ask when a thing began more often than "since when" it holds."""
    when = when_it_holds(qualifier)
    rel = base_relation(rel)
    words = rel.split()
    if when is None or not when.lower().startswith("since ") or not words or not is_verb_relation(rel) \
            or rel == "work as":
        return None
    s = _who(subject)
    if words[0] == "be":
        if len(words) != 2 or words[1] not in ("at", "in", "with", "on"):
            return None  # "Since when am I allergic to shellfish?" has no start to ask for
        return Pair(f"When did {s} start {words[1]} {obj}?", when[len("since "):], "when")
    return Pair(f"When did {s} start to {rel} {obj}?", when[len("since "):], "when")


def time_question(subject: str, rel: str, obj: str, said_at, qualifier: str | None, past: bool,
                  text: str = "") -> Pair | None:
    """The "when" of a fact: its date from when it was said (when_question), else the time said with it
    (qualifier_question)."""
    return when_question(subject, rel, obj, said_at, qualifier, past, text) or qualifier_question(
        subject, rel, obj, qualifier, past)


def time_questions(subject: str, rel: str, obj: str, said_at, qualifier: str | None, past: bool,
                   text: str = "") -> list[Pair]:
    """Every time question of a fact: its "when" (time_question) and, for a "since", its start (start_question)."""
    return [p for p in (time_question(subject, rel, obj, said_at, qualifier, past, text),
                        start_question(subject, rel, obj, qualifier)) if p is not None]


# --- verbatim statements ------------------------------------------------------------------------------------------

ECHO_WH = {"PERSON": "who", "GPE": "where", "LOC": "where", "FAC": "where", "DATE": "when", "TIME": "when",
           "CARDINAL": "how many", "QUANTITY": "how much", "MONEY": "how much", "ORG": "what", "NORP": "what",
           "EVENT": "what", "WORK_OF_ART": "what", "PRODUCT": "what", "LANGUAGE": "what", "ORDINAL": "which"}


def statement_questions(doc, speaker: str) -> list[Pair]:
    """Echo questions about each name, place, number and date of a statement (a parsed spaCy Doc). The user asks
    in the first person, so the user's own words stay as said ("We were out at the Fenwater reservoir all
    afternoon." -> "We were out at the Fenwater reservoir when?"); another speaker's "I" becomes the speaker, its
    verb said of one person ("Jon: I've lost my job in May" -> "Jon has lost Jon's job when?"). A name that
    qualifies a noun is asked by the noun: "We were out at which reservoir all afternoon?" (answer "Fenwater")."""
    user = speaker in ("user", USER, "")
    if leans(doc):
        return []
    agree = set() if user else _agreeing(doc)
    pairs = []
    for ent in doc.ents:
        wh = ECHO_WH.get(ent.label_)
        if wh is None:
            continue
        start, end = ent.start, ent.end
        if ent.root.dep_ == "compound" and ent.root.head.i == end and ent.root.head.pos_ == "NOUN":
            wh = "which"  # "the Fenwater reservoir" -> "which reservoir", not "the who reservoir"
            if start > 0 and doc[start - 1].lower_ in ("the", "a", "an"):
                start -= 1
        elif start > 0 and doc[start - 1].lower_ in ("in", "on", "at", "since", "during") and wh in ("when", "where"):
            start -= 1  # "in May" -> "when", not "in when"; "since 2016" -> "since when"
            wh = "since when" if doc[start].lower_ == "since" else wh
        words = []
        for t in doc:
            if start <= t.i < end:
                if t.i == start:
                    words.append(wh + doc[end - 1].whitespace_)
                continue
            if t.is_punct and t.i == len(doc) - 1:
                continue
            text = t.text if user else FIRST_PERSON_AS_NAMED.get(t.lower_, t.text).replace("{s}", speaker)
            if t.i in agree:
                text = THIRD_PERSON_AUX.get(t.lower_) or third_person(t.lower_)
            words.append(text + t.whitespace_)
        q = "".join(words).strip().rstrip(".!,;")
        if q and q.lower() != wh:
            pairs.append(Pair(q[0].upper() + q[1:] + "?", ent.text, "echo"))
    return pairs


def _agreeing(doc) -> set[int]:
    """The verbs whose subject is "I" or "we" (the first after it, past adverbs), said in the present or as
    "were": they agree with the speaker's name put in its place."""
    out = set()
    for t in doc:
        if t.lower_ in ("i", "we") and t.dep_ in ("nsubj", "nsubjpass"):
            k = t.i + 1
            while k < len(doc) and doc[k].pos_ == "ADV":
                k += 1
            if k < len(doc) and (doc[k].tag_ == "VBP" or doc[k].lower_ == "were"):
                out.add(k)
    return out


def leans(doc) -> bool:
    """A statement whose subject is a pronoun or missing ("She answers emails at two in the morning.", "Been
    there since 2019.") or that speaks to someone ("you left Corbel Rail"): its echo questions would not say whom
    they ask about."""
    for sent in doc.sents:
        if any(t.lower_ in ("you", "your") for t in sent):
            return True  # in a transcript, whoever is spoken to
        subjects = [t for t in sent.root.children if t.dep_ in ("nsubj", "nsubjpass", "expl", "csubj")]
        if subjects and subjects[0].lower_ in ("he", "she", "they", "this", "that", "these", "those"):
            return True
        if not subjects and (sent.root.pos_ in ("VERB", "AUX") or not any(t.pos_ in ("VERB", "AUX") for t in sent)):
            return True  # "Been there since 2019.", "Fine, five."
    return False


# --- what a stored fact is, without its parse -----------------------------------------------------------------


def is_time_phrase(text: str) -> bool:
    """Said only in words of time: "Tuesday nights", "the 9th of March", "every winter", "2019" (not a phone
    number or "Route 66")."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    months = {m.lower() for m in MONTHS}
    timed = lambda w: (w in TIME_NOUNS or w.rstrip("s") in TIME_NOUNS or w in months  # noqa: E731
                       or re.fullmatch(r"(1[89]|20)\d\d|([12]?\d|3[01])(st|nd|rd|th)?", w))
    return bool(words) and all(timed(w) or w in TIME_GLUE for w in words) and any(timed(w) for w in words)


def guess_kind(relation: str, obj: str) -> str:
    """person | place | time | number | thing for a stored fact's object (the parse is gone by then)."""
    rel = relation.strip()
    if rel in ("live in", "lives in", "grow up in", "be born in", "be from", "move to", "work at", "works at",
               "study at", "stay in", "work in") or rel.endswith((" in", " to")) and obj[:1].isupper() and \
            rel.startswith(("travel", "move", "go", "fly", "sail", "ski", "live", "vacation", "holiday")) \
            or done_at(rel, obj):
        return "place"
    if rel in ("birthday", "anniversary") or rel.endswith(("day", "date")) or is_time_phrase(obj):
        return "time"
    if rel in ("age", "phone number") or obj[:1].isdigit():
        return "number"
    if is_person_role(rel) or rel.endswith((" to", " with", " by")) and obj[:1].isupper():
        return "person"
    return "thing"


def guess_past(text: str) -> bool:
    """The fact's own sentence says it in the past ("The user grew up in Brackenford.")."""
    words = re.findall(r"[a-z']+", text.lower())
    return any(w in PAST_WORDS or (w.endswith("ed") and len(w) > 4) for w in words[1:4])
