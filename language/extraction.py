"""Subject / relation / object triples read off a dependency parse (language.parsing), one sentence at a
time. Pure functions of a spaCy sentence: no IO, no model state.

What yields a triple, and how it is named (the conventions evals/data/extraction.yaml is scored against):
- possessives and appositions: "my uncle Tavish", "my uncle is (called) Tavish" -> (the user, uncle, Tavish);
  "Maren's husband is Jory" -> (Maren, husband, Jory); renaming, "our dog Pepper is now called Juniper" ->
  (the user, dog, Juniper)
- verbs: the lemma with its particle and preposition, "I grew up in Brackenford" -> (the user, grow up in,
  Brackenford); a move, "I moved to X", is (the user, live in, X), so it supersedes the old home
- copulas: "I am allergic to shellfish" -> (the user, be allergic to, shellfish); "Tavish is a ferry pilot" ->
  (Tavish, work as, ferry pilot) for jobs, else (X, be, Y); "Pia is seven" -> (Pia, age, seven)
- passives: "I was born in Tromsdal" -> (the user, be born in, Tromsdal)
- contact details: any phone number or e-mail address -> (its person, phone number | email, value)
Time expressions ("last week", "every winter", "in 1990") never enter an object: they become the qualifier.
Questions, negations, hypotheticals ("if", "would", "might"), opinions ("I think"), feelings and clauses whose
subject is a pronoun other than I/we (no coreference here) yield no triple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import (
    AIMED_AT,
    CANONICAL,
    CHILDREN,
    COMMON_VERBS,
    CONTACT_VERBS,
    CURRENT,
    EMOTIONS,
    EVERYONE,
    FEELING_VERBS,
    FIRST_PERSON,
    FIRST_POSSESSIVE,
    GREETINGS,
    HEDGES,
    HYPOTHETICAL_MARKS,
    HYPOTHETICAL_MODALS,
    IDIOM_OBJECTS,
    JOB_NOUNS,
    JOB_SUFFIXES,
    JOBS,
    KIN_NAMES,
    LEANING,
    LOOKS,
    MEMBERS,
    NAMING_VERBS,
    NON_FACTUAL_VERBS,
    NOT_JOBS,
    OPINION_VERBS,
    OPINIONS,
    PASSING_STATES,
    PEOPLE,
    POINTING,
    POSSESSED_HEADS,
    QUESTION_AUX,
    REQUEST_VERBS,
    SOMEONE,
    TAKING_UP,
    TELLING_VERBS,
    TIME_NOUNS,
    USER,
    WH_WORDS,
)

PHONE = re.compile(r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?)?\d{3,5}[ .-]\d{3,6}(?:[ .-]\d{3,4})?(?![\w-])")
YEARS = re.compile(r"^(1[89]|20)\d\d[ .-](1[89]|20)?\d\d$")  # "2019-2021" is not a phone number
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Triple:
    subject: str
    relation: str
    object: str
    text: str  # a canonical statement of it, e.g. "The user grew up in Brackenford."
    qualifier: str | None = None  # when it holds: "last week", "every winter"
    answer: str = "thing"  # what kind of thing the object is: person | place | time | number | thing

    def key(self) -> tuple[str, str, str]:
        return norm(self.subject), norm(self.relation), norm(self.object)


@dataclass(frozen=True)
class Analysis:
    kind: str  # statement | question | small-talk
    triples: tuple[Triple, ...] = ()
    why: str | None = None  # no triple: question | small-talk | negation | hypothetical | opinion | feeling | vague


def norm(text: str | None) -> str:
    words = re.sub(r"[^\w@+.-]+", " ", (text or "").lower()).split()
    return " ".join(w.strip(".") for w in words if w not in ("a", "an", "the") and w.strip("."))


# --- sentence kinds -------------------------------------------------------------------------------------------


def is_question(sent) -> bool:
    """A question, or a request to the agent ("Tell me where I live."): asked, never stored."""
    words = [t for t in sent if not t.is_punct and not t.is_space]
    if sent.text.rstrip().endswith("?"):
        return True
    if not words:
        return False
    first = words[0].lower_
    start = 1 if first in ("please", "pls", "kindly", "now", "so", "ok", "okay") and len(words) > 1 else 0
    if words[start].lower_ in REQUEST_VERBS and not any(c.dep_ in ("nsubj", "nsubjpass")
                                                        for c in words[start].children):
        return True  # an imperative request: "Tell me ...", "Remind me ...", "List my ..."
    if first in WH_WORDS:
        # "What a day." is an exclamation; "How I met Jory" is a fragment: a wh-question has a verb after it
        return any(t.pos_ in ("AUX", "VERB") for t in words[1:3])
    return first in QUESTION_AUX and len(words) > 1 and "," not in sent.text and words[1].lower_ in (
        "you", "i", "we", "they", "he", "she", "it", "there", "your", "my")


def said_while_asking(sent) -> list:
    """The verbs of what a yes/no question about telling states ("Did I mention my dentist is Oriel Tansby?",
    "Have I told you that I moved to Ryde?"): the clause a telling verb takes, when it has a subject of its own and
    asks nothing itself ("Do you know where I live?" states nothing). Empty for any other question."""
    words = [t for t in sent if not t.is_punct and not t.is_space]
    root = sent.root
    if not words or words[0].lower_ not in QUESTION_AUX or root.lemma_.lower() not in TELLING_VERBS:
        return []
    said = [t for t in root.children if t.dep_ == "ccomp" and t.pos_ in ("VERB", "AUX")
            and any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)
            and not any(c.tag_ in ("WDT", "WP", "WP$", "WRB") or c.lower_ in ("if", "whether") for c in t.subtree
                        if c.i < t.i)]
    return said + [t for v in said for t in v.conjuncts if t.pos_ in ("VERB", "AUX")]


def leans_on_previous(sent) -> bool:
    """Whether a sentence needs the one before it to be understood: it points back with a pronoun ("He's head
    chef there.", "That survey is my team's whole year.") or has no subject ("Scruffy little lurcher, terrified
    of the hoover.", "Been there since 2019.")."""
    words = [t for t in sent if not (t.is_punct or t.is_space)]
    if any(t.lower_ in LEANING and t.pos_ in ("PRON", "DET", "ADV") for t in words):
        return True
    return not any(t.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for t in words)


NOT_PEOPLE = {"GPE", "LOC", "ORG", "FAC", "NORP", "DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "QUANTITY"}


def antecedent(sent, before) -> str | None:
    """The person a sentence's "he"/"she" subject points back to: the last name in the sentence before ("My
    brother's Dorran." -> "He's head chef" is about Dorran). None when the subject is not such a pronoun or the
    sentence before names no one."""
    subject = next((t for t in sent.root.children if t.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None or subject.lower_ not in ("he", "she"):
        return None
    return last_person(before)


def last_person(tokens) -> str | None:
    """The last person's name among `tokens` (a run of proper nouns, places and dates aside)."""
    names, run = [], []
    for t in tokens:
        if t._.refers:  # "She's lovely, but she answers emails at two": the first "she" was resolved
            names += [" ".join(run), t._.refers] if run else [t._.refers]
            run = []
        elif t.pos_ == "PROPN" and (t.ent_type_ not in NOT_PEOPLE or _given(t)) and t.lower_ not in FIRST_PERSON:
            run.append(t.text)
        elif run:
            names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    named = [n for n in names if n.lower() not in KIN_NAMES]  # "Mum's called Orla, and she ...": Orla
    return (named or names)[-1] if names else None


def _given(t) -> bool:
    """Whether a proper noun is said as someone's name, whatever the tagger thinks it is: "called Genny", "my
    sister Ilsabet", "our neighbour is Wenna Abernell", a subject; a word of a longer name is as its head is."""
    if t.dep_ in ("compound", "flat") and t.head.pos_ == "PROPN" and t.head.i > t.i:
        return _given(t.head)
    owned = lambda x: any(c.dep_ == "poss" for c in x.children)  # noqa: E731
    return (t.i > 0 and t.doc[t.i - 1].lower_ in ("called", "named") or t.dep_ == "appos" and owned(t.head)
            or t.dep_ in ("nsubj", "nsubjpass", "poss")
            or t.dep_ == "attr" and t.head.lemma_ == "be" and any(x.dep_ == "nsubj" and x.pos_ == "NOUN" and owned(x)
                                                                for x in t.head.children))


def refer_subject(sent, name: str) -> None:
    """Mark the sentence's "he"/"she" subject as `name` ("He's head chef." after "My brother's Dorran.": Dorran
    is head chef): the clause reads the mark where it would read a name."""
    subject = next(t for t in sent.root.children if t.dep_ in ("nsubj", "nsubjpass"))
    subject._.refers = name


def refer_addressee(sent, name: str) -> bool:
    """Mark "you"/"your" as whom the sentence is said to ("I still can't believe you left Corbel Rail", said to
    Jorund: Jorund left Corbel Rail; "your sister" is Jorund's sister), and the "who" of a retort ("Says the woman
    who still runs the Thursday quiz", said to Tessaly: Tessaly still runs it). False when nothing points at
    them."""
    marked = False
    for t in sent:
        if t.lower_ in ("you", "your", "yours"):
            t._.refers, marked = name, True
    if not marked and (who := _retort_subject(sent)) is not None:
        who._.refers, marked = name, True
    return marked


def _retort_subject(sent):
    """The "who" of "Says the one who ...", a retort about whom it is said to; None for any other sentence."""
    root = sent.root
    if root.lower_ != "says" or root.i != sent.start:
        return None
    one = next((c for c in root.children if c.dep_ == "nsubj" and c.i > root.i
                and c.lemma_.lower() in SOMEONE | {"one"}), None)
    clause = next((c for c in one.children if c.dep_ == "relcl"), None) if one is not None else None
    return next((c for c in clause.children if c.lower_ in ("who", "that") and c.dep_ == "nsubj"), None) \
        if clause is not None else None


def is_small_talk(sent) -> bool:
    """Greetings, thanks, laughter, farewells, fillers, and passing states ("I'm so tired today"): nothing
    durable. Anything that names a thing, a place, a number or a person is not small talk."""
    words = [t for t in sent if not (t.is_punct or t.is_space)]
    if not words:
        return True
    if all(t.lower_ in GREETINGS or t.pos_ == "INTJ" for t in words):
        return True
    if sent.text.rstrip().endswith("!") and len(words) <= 3 and all(t.is_title or t.pos_ == "INTJ" for t in words):
        return True  # a name called out ("Jorund!"): addressing someone, not saying anything about them
    if words[0].pos_ == "INTJ" or words[0].lower_ in ("hi", "hey", "hello", "thanks", "bye"):
        # "Hi Tobin!", "Thanks, Maren": a greeting and a name
        return all(t.lower_ in GREETINGS or t.pos_ in ("INTJ", "PROPN") for t in words)
    root = sent.root
    content = [t for t in words if t.pos_ in ("NOUN", "PROPN", "NUM") and t.lower_ not in TIME_NOUNS
               and t.lemma_.lower() not in TIME_NOUNS]
    subject = [t for t in root.children if t.dep_ in ("nsubj", "nsubjpass")]
    passing = [t for t in root.children if t.dep_ in ("acomp", "attr") and t.lemma_.lower() in PASSING_STATES
               and not any(c.dep_ in ("prep", "xcomp", "ccomp", "advcl") for c in t.children)]
    first_person = subject and subject[0].lower_ in FIRST_PERSON
    clauses = [t for t in root.children if t.dep_ in ("prep", "advcl", "ccomp", "xcomp", "dobj")]
    # "I'm so tired today", "Feeling great!" (no subject), but not "I'm tired of Ostwin" (a noun) nor
    # "I'm so proud of her" (about someone)
    return bool(root.lemma_ in ("be", "feel") and passing and (first_person or not subject) and not content
                and not clauses)


# --- phrases ----------------------------------------------------------------------------------------------------


def _is_time(tok) -> bool:
    return tok.ent_type_ in ("DATE", "TIME") or tok.lower_ in TIME_NOUNS or tok.lemma_.lower() in TIME_NOUNS


def phrase(tok, skip_time: bool = True, keep_det: bool = False) -> str:
    """The noun phrase under `tok`, without determiners, possessive pronouns, relative clauses, appositions,
    conjuncts, what the parser could not attach ("the half marathon, what, four years ...") or time expressions:
    "a red Halvik coupe" -> "red Halvik coupe"."""
    joined = set(range(*_joined(tok)))
    drop = set()
    for child in tok.children:
        if child.i in joined:
            continue
        if child.dep_ in ("relcl", "acl", "appos", "conj", "cc", "punct", "advcl", "case", "advmod", "dep") or (
                child.dep_ == "npadvmod" and _is_time(child)) or (
                child.dep_ in ("det", "poss") and child.i < tok.i and not (keep_det and child.dep_ == "det")) or (
                child.dep_ == "prep" and (child.lower_ not in ("of", "in", "near")
                                          or any(_is_time(o) for o in child.children))):
            drop |= {t.i for t in child.subtree}
        if child.dep_ == "poss" and child.lower_ not in FIRST_POSSESSIVE and child.i < tok.i:
            drop -= {t.i for t in child.subtree}  # "Maren's cat" keeps Maren's
    time_ok = {t.i for t in tok.subtree if t.dep_ in ("nummod", "compound", "amod") and t.head == tok}
    words = [t for t in tok.subtree if t.i not in drop and not (
        skip_time and _is_time(t) and t.i != tok.i and t.i not in time_ok and t.i not in joined)]
    words = [t for t in words if not t.is_punct or t.i in joined or t.text in ("'", ".", "&") and t.i != words[0].i
             or t.text == "-" and t.whitespace_ == "" and t.i > 0 and t.doc[t.i - 1].whitespace_ == ""]
    text = "".join(t.text + (" " if t.whitespace_ or k + 1 < len(words) and words[k + 1].i > t.i + 1 and
                             t.doc[t.i + 1].whitespace_ else "") for k, t in enumerate(words)).strip(" ,.;:!'\"")
    return re.sub(r"\s+", " ", text)


def _joined(tok) -> tuple[int, int]:
    """The token range of a hyphenated word around `tok`: "father-in-law", "sous-chef", "left-handed"."""
    doc, i, j = tok.doc, tok.i, tok.i
    while i > 0 and doc[i - 1].whitespace_ == "" and "-" in (doc[i - 1].text, doc[i].text):
        i -= 1
    while j + 1 < len(doc) and doc[j].whitespace_ == "" and "-" in (doc[j + 1].text, doc[j].text):
        j += 1
    return i, j + 1


def number_of(tok) -> str:
    """A number as written, hyphenated parts included: "ninety-one", not "one"."""
    i, j = _joined(tok)
    return tok.doc[i:j].text


def value_of(tok) -> str:
    """An object's words: a named entity whole ("March 3", "Odo Vance", "Arlow Point"), else its noun phrase; for
    a word that stands for someone ("you" said to Jorund), whom it names."""
    if tok._.refers:
        return tok._.refers
    if tok.pos_ in ("PROPN", "NUM") and tok.ent_type_ or tok.ent_type_ == "DATE" and tok.pos_ == "NOUN":
        ent = next((e for e in tok.doc.ents if e.start <= tok.i < e.end), None)
        if ent is not None:
            words = [t for t in ent if t.dep_ not in ("det", "poss") and not (t.is_punct and t.i == ent.start)]
            if words:
                text = tok.doc[words[0].i:words[-1].i + 1].text
                whole = name_of(tok) if tok.pos_ == "PROPN" else text
                return whole if text in whole else text  # the tagger's entity can miss a part: "Quenmere Sinfonia"
    if tok.pos_ == "PROPN" and not any(x.dep_ == "amod" for x in tok.children):
        return name_of(tok)
    return phrase(tok)


def is_name(tok) -> bool:
    """A person's or a place's name: a proper noun, or a capitalised word the tagger missed ("Tavish",
    "Biscuit is allergic to chicken": a capitalised singular noun with no article in subject position)."""
    if tok.pos_ == "PROPN":
        return True
    if not tok.text[:1].isupper() or tok.pos_ not in ("ADJ", "NOUN", "VERB") or tok.is_stop:
        return False
    if tok.ent_type_ in ("PERSON", "NORP", "GPE", "ORG", "LOC", "FAC"):
        return True
    return tok.tag_ == "NN" and tok.dep_ in ("nsubj", "nsubjpass") and not any(
        c.dep_ in ("det", "poss") for c in tok.children)


def name_of(tok) -> str:
    """A proper name with its compound parts: "Maren Coyle", "Haldor Valley"."""
    parts = [t for t in tok.subtree if t.dep_ in ("compound", "flat") and t.pos_ == "PROPN" and t.head == tok]
    words = sorted([*parts, tok], key=lambda t: t.i)
    return " ".join(t.text for t in words)


def possessor(tok, speaker: str) -> str | None:
    """Whose noun `tok` is: the speaker for my/our, a name for "Maren's", else None."""
    for child in tok.children:
        if child.dep_ == "poss":
            if child._.refers:
                return child._.refers
            if child.lower_ in FIRST_POSSESSIVE:
                return speaker
            if child.pos_ == "PROPN":
                return name_of(child)
    return None


def relation_noun(tok) -> str:
    """"favourite colour", "supervisor at Ostwin", "phone number": the possessed noun with its modifiers."""
    i, j = _joined(tok)
    if j - i > 1:
        return tok.doc[i:j].text.lower()
    mods = [t for t in tok.children if t.dep_ in ("amod", "compound") and t.i < tok.i and t.pos_ != "PROPN"
            and not _is_time(t) and t.lower_ not in CURRENT and not (t.dep_ == "amod" and t.lower_ in LOOKS)]
    # "next-door neighbour": a hyphenated modifier whole (the parser hangs "door" alone on the noun)
    words = [*(tok.doc[slice(*_joined(m))].text.lower() for m in sorted(mods, key=lambda t: t.i)),
             tok.lemma_.lower()]
    rel = " ".join(words).replace("favorite", "favourite").replace("fav ", "favourite ").replace("color", "colour")
    if rel in ("number", "phone", "mobile", "cell", "phone number", "mobile number", "cell number", "telephone",
               "telephone number", "office number", "home number", "work number"):
        return "phone number"
    if rel in ("email address", "e-mail", "mail", "email"):
        return "email"
    for prep in (c for c in tok.children if c.dep_ == "prep" and c.lower_ in ("at", "from", "in", "on")):
        objs = [c for c in prep.children if c.dep_ == "pobj" and c.pos_ == "PROPN"]
        if objs:
            rel += f" {prep.lower_} {name_of(objs[0])}"
    return rel


def appositive_name(tok):
    """"my uncle Tavish": the name token standing beside the noun (appos, or a trailing compound mis-parse)."""
    for child in tok.children:
        if child.dep_ == "appos" and child.pos_ in ("PROPN", "ADJ", "NOUN") and child.text[:1].isupper():
            return child
    return None


def is_job(tok) -> bool:
    """"hydrologist", "lighthouse keeper", "head chef": a noun naming an occupation."""
    noun = tok.lemma_.lower()
    job = noun in JOBS or (noun.endswith(JOB_SUFFIXES) and noun not in NOT_JOBS and tok.pos_ == "NOUN")
    return job and not any(x.lower_ in ("retired", "former", "ex") for x in tok.children)


def done_at(relation: str, obj: str) -> bool:
    """"swim at Aquafen", "run Thursday quiz at Gull & Lantern": a named place where something is done (not
    "laugh at Ana", "be good at Python")."""
    words = relation.split()
    return len(words) > 1 and words[-1] == "at" and words[0] not in AIMED_AT and obj[:1].isupper()


def answer_kind(tok) -> str:
    if tok._.refers:
        return "person"
    ent = tok.ent_type_
    if ent in ("PERSON",):
        return "person"
    if ent in ("GPE", "LOC", "FAC"):
        return "place"
    if ent in ("DATE", "TIME"):
        return "time"
    if tok.like_num or ent in ("CARDINAL", "QUANTITY", "MONEY"):
        return "number"
    if tok.pos_ == "PROPN":
        return "name"
    return "thing"


# --- clauses ----------------------------------------------------------------------------------------------------


class _Clause:
    def __init__(self, speaker: str, out: list[Triple]):
        self.speaker, self.out = speaker, out
        self.renamed: set[tuple[str, str]] = set()  # (owner, relation) given a new name in this sentence

    def add(self, subject: str, relation: str, obj: str, qualifier: str | None, tok=None, text=None,
            said: str | None = None, kind: str | None = None):
        """`said`: the predicate as it was said ("grew up in", "was born in"), for the triple's statement."""
        obj = obj.strip()
        canonical = CANONICAL.get(relation, relation)
        if canonical != relation:
            said = None
        relation = canonical
        if not obj or not subject or norm(obj) in ("", norm(subject)) or obj.lower() in FIRST_PERSON:
            return
        words = re.findall(r"[\w'-]+", obj)
        if len(words) == 1 and words[0] in IDIOM_OBJECTS or POINTING & set(words):
            return  # "by the way", "a lot"; "photos of it": what "it" is was said elsewhere
        if subject.lower() in KIN_NAMES and relation in ("name", "be called"):
            subject, relation, said, text = self.speaker, subject.lower(), None, None  # "Mum's called Genny"
        if any(t.key() == (norm(subject), norm(relation), norm(obj)) for t in self.out):
            return
        kind = kind or (answer_kind(tok) if tok is not None else "thing")
        if relation == "live in" or relation in ("grow up in", "be born in", "be from") and kind != "time" \
                or kind == "name" and done_at(relation, obj):
            kind = "place"
        if text is None:
            subj = subject[:1].upper() + subject[1:]
            text = f"{subj} {said} {obj}." if said else statement(subject, relation, obj)
        self.out.append(Triple(subject, relation, obj, text, qualifier, kind))


def statement(subject: str, relation: str, obj: str) -> str:
    """A plain sentence for a triple: "The user's uncle is Tavish.", "Tavish works as ferry pilot."."""
    s = subject[:1].upper() + subject[1:]
    words = relation.split()
    if not words:
        return f"{s} is {obj}."
    if words[0] == "be":
        return f"{s} is {' '.join(words[1:]) + ' ' if len(words) > 1 else ''}{obj}."
    if relation in ("age",):
        return f"{s} is {obj}."
    if words[0] in COMMON_VERBS or len(words) > 1 and words[0] not in POSSESSED_HEADS and words[1] in (
            "to", "in", "at", "as", "for", "on", "from", "with", "by", "up", "of", "into", "out"):
        verb = third_person(words[0])
        return f"{s} {' '.join([verb, *words[1:]])} {obj}."
    return f"{s}'s {relation} is {obj}."


def third_person(verb: str) -> str:
    """"ski" -> "skis", "have" -> "has", "fly" -> "flies": the verb said of one other person."""
    if verb in ("have",):
        return "has"
    if verb in ("do", "go"):
        return verb + "es"
    if re.search(r"(s|sh|ch|x|z)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _qualifier(sent, exclude: set[int]) -> str | None:
    """Time expressions of the sentence (DATE/TIME entities, "every winter", "on Tuesdays"), outside `exclude`."""
    spans: list[str] = []
    for ent in sent.ents:
        if ent.label_ in ("DATE", "TIME") and not ({t.i for t in ent} & exclude):
            start = ent.start
            if start > sent.start and sent.doc[start - 1].lower_ in ("in", "on", "since", "until", "at", "by",
                                                                     "from", "for", "during", "every", "each"):
                start -= 1
            spans.append(sent.doc[start:ent.end].text)
    if not spans:  # "every winter", "on Tuesdays" (the tagger does not always call them dates)
        for t in sent:
            if _is_time(t) and t.i not in exclude and t.pos_ in ("NOUN", "PROPN", "ADV") and (
                    t.dep_ == "npadvmod" or any(c.lower_ in ("every", "each", "last", "next", "this")
                                                for c in t.children)):
                words = [x for x in t.subtree if x.dep_ not in ("relcl", "acl") and x.i <= t.i]
                spans.append(" ".join(x.text for x in words))
    return "; ".join(dict.fromkeys(spans)) or None


def _subject(verb, speaker: str, out: _Clause) -> tuple[str | None, object]:
    """The clause's subject as a name, recording "my uncle Tavish" on the way; (None, tok) when unresolved."""
    subs = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    if any(c.dep_ == "expl" for c in verb.children):
        return None, None  # "there's a whole basement of records": nobody's attribute
    if not subs and verb.dep_ == "conj":  # "... and works at Brisk Dental": the first verb's subject
        return _subject(verb.head, speaker, _Clause(speaker, []))
    if not subs and verb.dep_ == "xcomp":
        return _subject(verb.head, speaker, _Clause(speaker, []))
    if not subs and verb._.said_by:  # "Been there since 2019.": said by the speaker, who dropped the "I"
        return verb._.said_by, None
    if not subs:
        return None, None
    tok = subs[0]
    if tok._.refers:  # a "he", "you" or "who" that the sentences around it name
        return tok._.refers, tok
    if len(subs) > 1 and any(is_name(x) for x in subs):  # "My grandfather Osric turned 90": two subjects
        name = next(x for x in subs if is_name(x))
        other = next((x for x in subs if x is not name and possessor(x, speaker) is not None), None)
        if other is not None:
            out.add(possessor(other, speaker), relation_noun(other), value_of(name), None, name)
        return value_of(name), name
    if tok.lower_ in FIRST_PERSON:
        return speaker, tok
    if tok.lower_ in ("who", "that", "which") and verb.dep_ == "relcl":  # "my friend Sol, who lives in ..."
        ante = verb.head
        if is_name(ante):
            return value_of(ante), ante
        name = appositive_name(ante) if ante.pos_ == "NOUN" else None
        named = next((x for x in ante.children if x.dep_ == "acl" and x.lemma_ in NAMING_VERBS), None)
        if name is None and named is not None:  # "an aunt called Wren who lives in ..."
            name = next((o for o in named.children if o.dep_ in ("oprd", "attr", "dobj") and is_name(o)), None)
        return (value_of(name), name) if name is not None else (None, tok)
    if tok.pos_ == "PRON" and tok.lower_ in ("he", "she") and verb.dep_ in ("ROOT", "conj", "parataxis"):
        name = last_person(t for t in tok.sent if t.i < tok.i)  # not in reported speech: "Ana says she is ..."
        return (name, tok) if name else (None, tok)  # "Mum's called Genny, she runs a bakery": Genny
    if tok.pos_ == "PRON":
        return None, tok  # they, it; a "he"/"she" that opens a sentence is resolved by the intake
    owner = possessor(tok, speaker)
    if owner is not None and not is_name(tok):
        name = appositive_name(tok)
        if name is not None:
            named = name_of(name)
            out.add(owner, relation_noun(tok), named, None, name)
            return named, tok
        return _owned(owner, tok), tok
    if is_name(tok):
        return value_of(tok), tok
    if tok.pos_ == "NOUN" and verb.lemma_ == "be" and not any(x.dep_ in ("det", "poss") for x in tok.children) and any(
            _is_time(o) for p in verb.children if p.dep_ == "prep" for o in p.children if o.dep_ == "pobj"):
        return _owned(speaker, tok), tok  # "Rehearsals are on Tuesday nights": the speaker's
    return None, tok


def _owned(owner: str, tok) -> str:
    return f"the user's {relation_noun(tok)}" if owner == USER else f"{owner}'s {relation_noun(tok)}"


def _negated(verb) -> bool:
    if any(c.lower_ == "longer" and any(x.lower_ == "no" for x in c.children) for c in verb.children):
        return True
    return any(c.dep_ == "neg" or c.lower_ in ("never", "no") and c.dep_ in ("advmod", "det", "neg")
               for c in verb.children) or any(c.dep_ == "det" and c.lower_ == "no" for o in verb.children
                                              for c in o.children if o.dep_ in ("dobj", "attr"))


def _surprise(verb) -> bool:
    """"I can't believe you left Corbel Rail": surprise at what the clause says, which is so, not a denial."""
    return (verb.lemma_ == "believe" and any(c.dep_ == "ccomp" for c in verb.children)
            and any(c.dep_ == "aux" and c.lower_ in ("ca", "can", "could") for c in verb.children))


def _imperative(verb) -> bool:
    """"so please never suggest anything with prawns": a request to the assistant, whose "never" says nothing
    about the speaker's other clauses ("I'm allergic to shellfish")."""
    return verb.tag_ == "VB" and not any(c.dep_ in ("nsubj", "nsubjpass", "aux", "expl") for c in verb.children)


def _hypothetical(sent, verb) -> bool:
    """A condition ("if I moved"), a consequence ("I would learn French"), a hedge ("maybe", "perhaps")."""
    if any(c.dep_ == "mark" and c.lower_ in HYPOTHETICAL_MARKS for c in verb.children):
        return True
    if any(c.dep_ == "advcl" and any(m.dep_ == "mark" and m.lower_ in ("if", "unless") for m in c.children)
            for c in verb.children) and any(c.dep_ == "aux" and c.lower_ in ("can", "will", "'ll")
                                            for c in verb.children):
        return True  # "If Ana visits, she can stay in the spare room" (not "Her number is ... if you need it")
    if any(t.lower_ in HEDGES for t in sent):
        return True
    return any(c.dep_ == "aux" and c.lower_ in HYPOTHETICAL_MODALS | {"'d"} for c in verb.children)


def _objects(verb):
    """(relation suffix, object token) pairs of a verb: dobj, prepositional objects, particles folded in."""
    prt = " ".join(c.lower_ for c in verb.children if c.dep_ == "prt")
    found = []
    for c in verb.children:
        if c.dep_ in ("dobj", "attr", "oprd", "dative") and (c.pos_ != "PRON" or c._.refers):
            found.append(("", c))
            if c.dep_ == "dobj":  # "runs the quiz at the Gull & Lantern": where the thing is done
                found += [("at", o) for p in c.children if p.dep_ == "prep" and p.lower_ == "at"
                          for o in p.children if o.dep_ == "pobj" and is_name(o)]
        elif c.dep_ == "prep":
            for o in c.children:
                if o.dep_ == "pobj":
                    found.append((c.lower_, o))
                    found += [(c.lower_, cj) for cj in o.conjuncts]
                elif o.dep_ == "pcomp" and o.pos_ == "VERB":  # "signed up for swimming"
                    found.append((c.lower_, o))
                elif o.dep_ == "prep" and o.lower_ in ("of", "from"):  # "moved out of Corran Street", "away from"
                    found += [(f"{c.lower_} {o.lower_}", x) for x in o.children if x.dep_ == "pobj"]
        elif c.dep_ == "agent":  # "raised by my aunt"
            found += [("by", o) for o in c.children if o.dep_ == "pobj"]
    found += [(suffix, cj) for suffix, o in list(found) if suffix == "" for cj in o.conjuncts]
    return prt, found


# the auxiliary a dropped "I" took with it: "Been there" is "I've been there", "Working at" is "I'm working at"
_DROPPED_AUX = {"VBN": ("'ve",), "VBG": ("'m",)}


def _verb_clause(sent, verb, speaker: str, c: _Clause) -> str | None:
    """Triples of one predicate; returns why it gave none (or None when it gave some or was not a clause)."""
    if _negated(verb):
        return "negation"
    if _hypothetical(sent, verb):
        return "hypothetical"
    subject, stok = _subject(verb, speaker, c)
    lemma = verb.lemma_.lower()
    if subject is None and not (stok is not None and stok.lemma_.lower() == "name" and lemma == "be"):
        return "vague"
    if lemma in OPINION_VERBS:
        return "opinion"
    if lemma in FEELING_VERBS or lemma in NON_FACTUAL_VERBS and verb.dep_ == "ROOT" and not any(
            x.dep_ == "dobj" for x in verb.children):
        return "feeling"
    own_subject = next((x for x in verb.children if x.dep_ in ("nsubj", "nsubjpass")), None)
    auxpass = next((x for x in verb.children if x.dep_ == "auxpass"), None)
    # "he's just adopted a grey cat": "'s" is "has" when the participle has an object, not a passive
    perfect = auxpass is not None and auxpass.lower_ in ("'s", "’s") and any(x.dep_ == "dobj" for x in verb.children)
    if perfect:
        auxpass, own_subject = None, None
    if lemma in NAMING_VERBS and _named_it(verb, subject, c):
        return None
    if lemma == "rename" and _renamed_by(verb, speaker, c):
        return None
    if lemma in CONTACT_VERBS and auxpass is None and (PHONE.search(sent.text) or EMAIL.search(sent.text)):
        return "vague"  # "Call my mom Ilse on 617-555-0133": the number is read by _contacts
    before = len(c.out)
    passive = auxpass is not None or (own_subject is not None and own_subject.dep_ == "nsubjpass")
    if lemma == "get" and (perfect or any(x.dep_ == "aux" and x.lemma_ == "have" for x in verb.children)):
        lemma = "have"  # "we've got two kids": possession
    if passive and lemma in NAMING_VERBS:
        _renamed(sent, verb, subject, stok, speaker, c)
        return None if len(c.out) > before else "vague"
    if lemma == "be" or verb.pos_ == "AUX" and lemma == "be":
        return _copula(sent, verb, subject, stok, speaker, c, before)
    prt, objs = _objects(verb)
    passive_aux = "get" if auxpass is not None and auxpass.lemma_ == "get" else "be"
    base = " ".join(x for x in (f"{passive_aux} {verb.lower_}" if passive else lemma, prt) if x)
    if passive and not objs and lemma not in NAMING_VERBS:  # "Brann is retired", "I'm divorced"
        c.add(subject, "be", verb.text.lower(), None, verb, text=f"{subject[:1].upper() + subject[1:]} is {verb.text}.")
        return _also_for_conjuncts(c, stok, subject, before)
    if lemma == "turn" and any(o.like_num for _, o in objs):  # "Osric turned 90"
        o = next(o for _, o in objs if o.like_num)
        c.add(subject, "age", o.text, None, o)
        return _also_for_conjuncts(c, stok, subject, before)
    said = _said(verb, lemma, subject, stok, perfect, prt)
    qualifier_exclude = _verb_objects(verb, objs, subject, speaker, lemma, base, said, c)
    qual = _qualifier(sent, qualifier_exclude)
    c.out[before:] = [Triple(t.subject, t.relation, t.object, t.text, qual, t.answer) for t in c.out[before:]]
    for job in _jobs_held(verb):  # "retired last year after thirty years as a lighthouse keeper": not last year
        c.add(subject, "work as", phrase(job), None, job)
    return _also_for_conjuncts(c, stok, subject, before)


def _named_it(verb, subject, c: _Clause) -> bool:
    """"... a boat and named it the Gannet's Pride": the thing's name, without its article."""
    if verb.dep_ != "conj" or not any(x.dep_ == "dobj" and x.lower_ == "it" for x in verb.children):
        return False
    thing = next((x for x in verb.head.children if x.dep_ == "dobj" and x.pos_ == "NOUN"), None)
    name = next((x for x in verb.children if x.dep_ == "oprd" and is_name(x)), None)
    if thing is None or name is None or subject is None:
        return False
    c.add(subject, relation_noun(thing), re.sub(r"^(?:the|a|an) ", "", phrase(name)), None, name)
    return True


def _renamed_by(verb, speaker: str, c: _Clause) -> bool:
    """"We renamed the dog Biscuit", "The kids renamed the hamster Captain": the thing's new name, the speaker's
    (a definite "the dog" in a chat is the speaker's own, as "my dog" would be)."""
    name = next((x for x in verb.children if x.dep_ in ("dobj", "oprd") and is_name(x)), None)
    thing = next((x for x in name.children if x.dep_ == "compound" and x.pos_ == "NOUN"), None) if name else None
    if thing is None:  # "renamed the dog Biscuit" parsed with the dog as the object and the name beside it
        thing = next((x for x in verb.children if x.dep_ == "dobj" and x.pos_ == "NOUN"), None)
        name = next((x for x in verb.children if x.dep_ in ("oprd", "npadvmod", "attr") and is_name(x)), None)
    if thing is None or name is None:
        return False
    owner = possessor(thing, speaker) or speaker
    rel = relation_noun(thing)
    c.renamed.add((owner, rel))
    c.add(owner, rel, value_of(name), None, name)
    return True


def _renamed(sent, verb, subject, stok, speaker: str, c: _Clause) -> None:
    """A name given in the passive: "My sister is called Ana", "Our dog Pepper is now called Juniper" (the new
    name replaces the appositive's old one)."""
    names = [x for x in verb.children if x.dep_ in ("oprd", "attr", "dobj", "xcomp")]
    if not names or stok is None:
        return
    owner = possessor(stok, speaker)
    value = value_of(names[0])
    # "our dog Ferrow is now called Tobble" parsed with the old name as the head and "dog" its compound
    role = next((x for x in stok.children if x.dep_ == "compound" and x.pos_ == "NOUN"), None) \
        if stok.text[:1].isupper() else None
    if owner is not None and (role is not None or not is_name(stok)):
        rel = relation_noun(role if role is not None else stok)
        c.renamed.add((owner, rel))
        c.out[:] = [t for t in c.out if not (t.subject == owner and t.relation == rel)]
        c.add(owner, rel, value, _qualifier(sent, {t.i for t in names[0].subtree}), names[0])
    else:
        c.add(subject, "be called", value, None, names[0])


def _said(verb, lemma: str, subject: str, stok, perfect: bool, prt: str) -> str:
    """The verb as said, in the person of the subject: "I've skied" said of the user is "has skied"."""
    aux = [x for x in verb.children if x.dep_ in ("aux", "auxpass") and x.lower_ not in HYPOTHETICAL_MODALS]
    surface = [x.text for x in sorted([*aux, verb], key=lambda t: t.i)]
    if stok is None and verb._.said_by:  # "Been there ...", "Grew up in ...": as "I've been", "I grew up"
        surface = [*_DROPPED_AUX.get(verb.tag_, ()), verb.lower_]
    if subject == USER or subject[:1].isupper():  # "I am", "we ski" said of the user: "the user is / skis"
        surface = [{"am": "is", "'m": "is", "are": "is", "'re": "is", "were": "was", "'ve": "has",
                    "have": "has", "'s": "has" if perfect else "is"}.get(w.lower(), w) for w in surface]
        if verb.tag_ == "VBP" and not aux:
            surface[-1] = third_person(lemma)
    return " ".join([*surface, prt]).strip()


def _verb_objects(verb, objs, subject: str, speaker: str, lemma: str, base: str, said: str, c: _Clause) -> set[int]:
    """A triple per object of the verb; returns the tokens the objects cover (kept out of the qualifier)."""
    qualifier_exclude: set[int] = set()
    # "I live in Carrowmede, in a tiny flat over a bike shop": the name says where; the rest describes it
    named_preps = {suffix for suffix, o in objs if suffix and is_name(o)}
    # "moved into a cottage in Ryde": where one lives is the place named, whichever preposition names it
    living = {suffix for suffix, _ in objs if suffix and CANONICAL.get(f"{base} {suffix}") == "live in"}
    if living & named_preps:
        named_preps |= living
    # "I moved my account to Pellow Bank": a thing moved, not the speaker
    moved = next((o for suffix, o in objs if suffix == "" and o.pos_ in ("NOUN", "PROPN")), None) \
        if lemma in ("move", "relocate", "transfer") else None
    # "I started a new job at Corbel Rail": the speaker works there
    job = next((o for suffix, o in objs if suffix == "" and o.lemma_.lower() in JOB_NOUNS), None) \
        if lemma in TAKING_UP else None  # not "I'm considering a job at ..."
    for suffix, o in objs:
        if suffix in named_preps and not is_name(o):
            continue
        if job is not None and suffix in ("at", "with", "for") and is_name(o):
            c.add(subject, "work at", value_of(o), None, o)
        apposed = appositive_name(o) if suffix == "" and possessor(o, speaker) is None else None
        if apposed is not None and is_name(apposed) and lemma in ("have", "get", "adopt", "buy"):
            rel = relation_noun(o)  # "we've got a dog, Ferrow"; "she's got a little girl, Lottabel": a daughter
            rel = CHILDREN.get(rel, rel) if lemma in ("have", "get") else rel
            c.add(subject, rel, value_of(apposed), None, apposed)
        named = next((x for x in o.children if x.dep_ == "acl" and x.lemma_ in NAMING_VERBS), None)
        name = next((x for x in named.children if x.dep_ in ("oprd", "attr", "dobj", "xcomp")), None) if named else None
        if name is not None and suffix == "":  # "I have a cat named Biscuit", "we adopted a beagle called Pickle"
            c.add(subject, relation_noun(o), value_of(name), None, name)
            if lemma in ("have", "get"):
                continue
        elif name is not None and is_name(name):  # "climbing at a gym called Cragloft": the name says where
            o = name
        if o.pos_ == "PRON" and not o._.refers or any(
                x.dep_ == "poss" and x.pos_ == "PRON" and x.lower_ not in FIRST_POSSESSIVE
                and not (x.lower_ == "their" and lemma not in ("have", "get", "be")) for x in o.children):
            continue  # "stayed with him", "had her second baby": no coreference here ("doing their bridge
            # inspections" is still what is done: whose they are matters less than whose a baby is)
        if possessor(o, speaker) is not None and appositive_name(o) is not None:
            o = appositive_name(o)  # "raised by my grandmother Elsbeth" -> Elsbeth (her role is read below)
        if _is_time(o) and o.ent_type_ in ("DATE", "TIME", "") and (suffix in ("in", "on", "since", "until",
                                                                             "during", "for", "") or o.like_num):
            if o.lower_ in TIME_NOUNS or o.ent_type_ in ("DATE", "TIME"):
                continue  # "in 1990", "last week": a qualifier, not an object
        value = value_of(o)
        qualifier_exclude |= {t.i for t in o.subtree}
        as_said = phrase(o, keep_det=True) if o.pos_ not in ("PROPN", "NUM") and not o._.refers else value
        subj = subject[:1].upper() + subject[1:]
        rel = f"{base} {moved.lemma_.lower()} {suffix}" if moved is not None and suffix else f"{base} {suffix}".strip()
        c.add(subject, rel, value, None, o,
              text=None if CANONICAL.get(rel) else f"{subj} {said} {suffix} {as_said}.".replace("  ", " "))
    for there in (x for x in verb.children if x._.place):  # "Worked there since 2019": where the sentence before said
        prep, value, kind = there._.place
        subj = subject[:1].upper() + subject[1:]
        c.add(subject, f"{base} {prep}", value, None, None, kind=kind,
              text=None if CANONICAL.get(f"{base} {prep}") else f"{subj} {said} {prep} {value}.")
    return qualifier_exclude


def _jobs_held(verb):
    """Occupations named with "as" below an object of the verb ("thirty years as a lighthouse keeper", "a career
    as a nurse"), not inside a clause of another verb. "as" right under the verb ("training as an electrician",
    "works as a nurse") is the verb's own object."""
    found = []
    stack = list(verb.children)
    while stack:
        t = stack.pop()
        if t.pos_ in ("VERB", "AUX") or t.dep_ in ("relcl", "acl", "advcl", "ccomp", "conj"):
            continue
        if t.dep_ == "pobj" and t.head.lower_ == "as" and t.head.head != verb and t.pos_ == "NOUN" and is_job(t):
            found.append(t)
        stack.extend(t.children)
    return found


def _also_for_conjuncts(c: "_Clause", stok, subject: str, before: int) -> str | None:
    """"Ana and Jory live in Pellowick", "Imrie and I moved to Pellinghurst": what was said of the first is
    said of the others too."""
    if stok is not None:
        for other in stok.conjuncts:
            if is_name(other) or other.lower_ in FIRST_PERSON and subject != c.speaker:  # "Imrie and I moved"
                name = value_of(other) if is_name(other) else c.speaker
                said = name[:1].upper() + name[1:]
                c.out += [Triple(name, t.relation, t.object, t.text.replace(subject, said, 1), t.qualifier, t.answer)
                          for t in c.out[before:] if t.subject == subject]
    return None if len(c.out) > before else "vague"


def _copula(sent, verb, subject, stok, speaker, c: _Clause, before: int) -> str | None:
    owner = possessor(stok, speaker) if stok is not None else None
    attrs = [x for x in verb.children if x.dep_ in ("attr", "acomp", "oprd")]
    preps = [x for x in verb.children if x.dep_ == "prep"]
    if stok is not None and stok.lemma_.lower() == "name" and owner is None:
        # "My mother's name is Ilse", "my cat's name is biscuit": the owner is the possessor's possessor
        holder = next((x for x in stok.children if x.dep_ == "poss" and x.pos_ == "NOUN"), None)
        if holder is not None and possessor(holder, speaker) is not None and attrs:
            c.add(possessor(holder, speaker), relation_noun(holder), value_of(attrs[0]), None, attrs[0])
            return None
        pronoun = next((x for x in stok.children if x.dep_ == "poss" and x.pos_ == "PRON"), None)
        owned = last_owned(reversed(sent.doc[:sent.start]), speaker) if pronoun else None
        if owned is not None and attrs and is_name(attrs[0]):
            # "I have a dog. Her name is Pepper.": whose name is the last thing the message said the speaker has
            c.add(speaker, relation_noun(owned), value_of(attrs[0]), None, attrs[0])
            return None
    if subject is None:
        return "vague"  # "Her name is Pepper." on its own: nobody the message names
    value_tok = attrs[0] if attrs else next((o for p in preps for o in p.children if o.dep_ == "pobj"), None)
    if (owner is None and stok is not None and stok.pos_ == "NOUN" and value_tok is not None and _is_time(value_tok)
            and not any(x.dep_ in ("det", "poss") for x in stok.children)):
        owner = speaker  # "Rehearsals are on Tuesday nights": the speaker's, as "my yoga class is on Thursdays"
    if owner is not None and not is_name(stok) and subject != owner:
        rel = relation_noun(stok)
        if value_tok is not None and not (value_tok.pos_ == "ADJ" and value_tok.lemma_.lower() in PASSING_STATES):
            value = value_of(value_tok) if value_tok.pos_ in ("PROPN", "NUM") or value_tok.ent_type_ == "DATE" \
                else phrase(value_tok, skip_time=False)
            # "My uncle Tavish is a pilot": the named person is the subject now
            if appositive_name(stok) is not None:
                return _predicate(sent, verb, subject, attrs, preps, c, before)
            c.add(owner, rel, value, None, value_tok)
            return None if len(c.out) > before else "vague"
    return _predicate(sent, verb, subject, attrs, preps, c, before)


HAVING = {"have", "get", "adopt", "buy", "rescue"}


def last_owned(tokens, speaker: str):
    """The nearest noun among `tokens` (read backwards) that the speaker has: "my dog", "our kitten", the object
    of "I have"/"we adopted"; None when one names a person first (a name is whose the next "her" is)."""
    for t in tokens:
        if t.pos_ == "PROPN" and t.ent_type_ not in NOT_PEOPLE:
            return None
        if t.pos_ != "NOUN" or _is_time(t):
            continue
        if possessor(t, speaker) == speaker:
            return t
        if t.dep_ == "dobj" and t.head.lemma_ in HAVING and any(
                x.dep_ == "nsubj" and x.lower_ in FIRST_PERSON for x in t.head.children):
            return t
    return None


def _named(tok):
    """The name standing in apposition to a common noun ("a community orchestra, the Quenmere Sinfonia") or given
    to it ("a seafood place called the Brinehook"), else the noun itself."""
    if is_name(tok):
        return tok
    name = appositive_name(tok)
    if name is None:
        named = next((x for x in tok.children if x.dep_ == "acl" and x.lemma_ in NAMING_VERBS), None)
        name = next((x for x in named.children if x.dep_ in ("oprd", "attr", "dobj")), None) if named else None
    return name if name is not None and is_name(name) else tok


def _where_it_is(c: _Clause, place, name) -> None:
    """"a seafood place in Tollanby called the Brinehook": the named place is in Tollanby."""
    if name is place:
        return
    for x in (x for x in place.children if x.dep_ == "prep" and x.lower_ == "in"):
        for where in (y for y in x.children if y.dep_ == "pobj" and is_name(y)):
            c.add(value_of(name), "be in", value_of(where), None, where)


def _called_after(job, place):
    """The name given to a job's workplace ("head chef at a seafood place called the Brinehook"), wherever the
    parser hung "called" (on the place, or on the job noun after the place); the place itself when none is."""
    named = _named(place)
    if named is not place:
        return named
    called = next((x for x in job.children if x.dep_ == "acl" and x.lemma_ in NAMING_VERBS and x.i > place.i), None)
    name = next((x for x in called.children if x.dep_ in ("oprd", "attr", "dobj")), None) if called else None
    return name if name is not None and is_name(name) else place


def _predicate(sent, verb, subject, attrs, preps, c: _Clause, before: int) -> str | None:
    exclude: set[int] = set()
    named_places = []  # (place, its name) of a job's workplace that the parser hung on the job
    for a in attrs:
        if any(x.dep_ == "poss" and x.lower_ in EVERYONE for x in a.children):
            continue  # "he's everyone's favourite now": an opinion
        if (subject == c.speaker and a.text[:1].isupper() and a.i > sent.start and a.ent_type_ not in NOT_PEOPLE
                and (a.pos_ == "PROPN" or a.ent_type_ == "PERSON" or a.pos_ == "ADJ")
                and not any(x.dep_ in ("det", "poss") for x in a.children)):
            c.add(subject, "name", value_of(a), None, a)  # "I'm Odile, by the way."
            exclude |= {t.i for t in a.subtree}
            continue
        if a.pos_ == "ADJ" or a.dep_ == "acomp":
            if a.like_num or a.pos_ == "NUM":
                c.add(subject, "age", number_of(a), None, a)
                continue
            years = next((x for x in a.children if x.lemma_ == "year"), None)
            if a.lemma_ == "old" and years is not None:  # "Elias is 11 years old"
                n = next((x for x in years.children if x.like_num), None)
                if n is not None:
                    c.add(subject, "age", n.text, None, n)
                continue
            if a.lemma_.lower() in EMOTIONS | OPINIONS:
                continue  # "I'm nervous about the interview": a feeling; "Ostwin's logo is ugly": an opinion
            found = False
            for p in (x for x in a.children if x.dep_ == "prep"):
                for o in (x for x in p.children if x.dep_ == "pobj"):
                    if _is_time(o):
                        continue
                    for obj in (o, *o.conjuncts):
                        c.add(subject, f"be {a.lemma_.lower()} {p.lower_}", value_of(obj), None, obj)
                    exclude |= {t.i for t in o.subtree}
                    found = True
            if not found and not any(x.dep_ == "xcomp" for x in a.children):
                c.add(subject, "be", phrase(a), None, a)  # "I'm vegetarian", "Ana is lactose intolerant"
            # "allergic to shellfish" parsed as an infinitive: to + xcomp
            for x in (x for x in a.children if x.dep_ == "xcomp"):
                if any(t.lower_ == "to" for t in x.children):
                    c.add(subject, f"be {a.lemma_.lower()} to", x.text, None, x)
            continue
        if a.pos_ == "NUM" or a.like_num:
            c.add(subject, "age", number_of(a), None, a)
            continue
        owner = possessor(a, c.speaker)
        if owner is not None and not is_name(a):  # "Maren is my sister", "Dervla has been my manager"
            c.add(owner, relation_noun(a), subject, None, next((x for x in verb.children if x.dep_ in (
                "nsubj", "nsubjpass")), a))
            continue
        if any(x.lower_ in ("such", "so") for x in a.children) or a.lemma_.lower() in OPINIONS:
            continue  # "Pickle is such a cute name"
        job = is_job(a)
        value = value_of(a)
        if job:  # "a software tester at Vantry Labs", "a vet in Dunmarrow"
            for p in (x for x in a.children if x.dep_ == "prep" and x.lower_ in ("at", "for", "with", "in")):
                for o in (x for x in p.children if x.dep_ == "pobj" and (p.lower_ != "in" or is_name(x))):
                    where = _called_after(a, o) if not is_name(o) else o
                    if where is not o:  # "at a seafood place called the Brinehook": read with the verb's places
                        named_places.append((o, where))
                        continue
                    c.add(subject, "work in" if p.lower_ == "in" else "work at", value_of(o), None, o)
                    if p.lower_ == "in":
                        value = value.split(" in ")[0]
        subj = subject[:1].upper() + subject[1:]
        said = phrase(a, keep_det=True) if a.pos_ not in ("PROPN", "NUM") else value
        c.add(subject, "work as" if job else "be", value, None, a, text=f"{subj} is {said}.")
        exclude |= {t.i for t in a.subtree}
    exclude |= _places(verb, subject, attrs, preps, named_places, c)
    qual = _qualifier(sent, exclude)
    c.out[before:] = [Triple(t.subject, t.relation, t.object, t.text, qual, t.answer) for t in c.out[before:]]
    return None if len(c.out) > before else "vague"


def _places(verb, subject: str, attrs, preps, named_places, c: _Clause) -> set[int]:
    """Where the subject is, lives or works, said with the copula ("I'm from Arlow", "Ada is at Ostwin", "head chef
    at a seafood place called the Brinehook"); returns the tokens they cover."""
    exclude: set[int] = set()
    # "We were out at the Fenwater reservoir in the rain": where someone was one afternoon, not a fact
    working = any(is_job(a) for a in attrs)
    for p in preps if verb.tag_ != "VBD" else []:  # "I'm from Arlow", "Ada is at Ostwin"
        if p.pos_ == "VERB":
            continue  # "given my allergy"
        for o in (x for x in p.children if x.dep_ == "pobj"):
            place, o = o, _named(o)  # "in a community orchestra, the Quenmere Sinfonia"
            if not _is_time(o):
                job_place = working and p.lower_ in ("at", "for")  # "head chef at a seafood place called ..."
                c.add(subject, "work at" if job_place else f"be {p.lower_}", value_of(o), None, o)
                exclude |= {t.i for t in place.subtree}
                _where_it_is(c, place, o)
    for place, name in named_places:
        c.add(subject, "work at", value_of(name), None, name)
        exclude |= {t.i for t in place.subtree} | {t.i for t in name.subtree}
        _where_it_is(c, place, name)
    for there in (x for x in verb.children if x._.place) if verb.tag_ != "VBD" else []:  # "Been there since 2019"
        prep, value, kind = there._.place
        c.add(subject, "work at" if working and prep == "at" else f"be {prep}", value, None, None, kind=kind)
    return exclude


def _appositions(sent, speaker: str, c: _Clause) -> None:
    """"... my dentist Ada Brennock ...", "... Tavish, my uncle, ...", wherever they stand in the sentence."""
    def add(owner, noun, name):
        if (owner, relation_noun(noun)) not in c.renamed:
            c.add(owner, relation_noun(noun), value_of(name), None, name)

    for tok in sent:
        owner = possessor(tok, speaker) if tok.pos_ == "NOUN" else None
        if owner is not None:
            name = appositive_name(tok)
            if name is not None and _member_of(tok):  # "a new guy on my team, Caddoc Velle": the guy's name
                if tok.lemma_.lower() in MEMBERS:
                    c.add(owner, MEMBERS[tok.lemma_.lower()], value_of(name), None, name)
            elif name is not None:
                add(owner, tok, name)
            elif tok.dep_ == "compound" and is_name(tok.head):  # "my plumber Odo Vance": plumber <- Vance
                add(owner, tok, tok.head)
        elif (tok.dep_ in ("amod", "compound") and tok.lower_ in PEOPLE and is_name(tok.head)
              and possessor(tok.head, speaker) is not None):
            owner = possessor(tok.head, speaker)  # "My stepdad Brann", "My youngest, Bea": a role read as a modifier
            role = tok.doc[slice(*_joined(tok))].text.lower()  # "great-aunt" whole
            if (owner, role) not in c.renamed:
                c.add(owner, role, value_of(tok.head), None, tok.head)
        if tok.dep_ == "appos" and is_name(tok.head) and possessor(tok, speaker) is not None:
            add(possessor(tok, speaker), tok, tok.head)
        if (tok.dep_ == "appos" and is_name(tok) and tok.head.lower_ in KIN_NAMES
                and possessor(tok.head, speaker) is None):
            c.add(speaker, tok.head.lower_, value_of(tok), None, tok)  # "Dad, Fitz, retired last year"


def _member_of(group) -> bool:
    """Whether `group` is where a person said before it belongs ("a new guy on my team", "a girl in my class"):
    a name after it, set off by a comma, is the person's, the parser's attachment notwithstanding."""
    return (group.dep_ == "pobj" and group.head.dep_ == "prep" and group.head.lower_ in ("on", "in", "at", "from")
            and group.head.head.lemma_.lower() in SOMEONE)


def _standing_order(sent, speaker: str, c: _Clause) -> bool:
    """"If you ever have to order coffee for me, it's an oat flat white": a condition on what the assistant does
    for the speaker, whose "it" is what it does it with, says how the speaker has that thing: the speaker's coffee
    is an oat flat white. Not a hypothetical about the world ("If I moved to Paris, it would be fun")."""
    root = sent.root
    if root.lemma_ != "be" or not any(x.dep_ == "nsubj" and x.lower_ in ("it", "that") for x in root.children):
        return False
    value = next((x for x in root.children if x.dep_ == "attr"), None)
    cond = next((x for x in root.children if x.dep_ == "advcl" and any(
        m.dep_ == "mark" and m.lower_ in ("if", "whenever", "when") for m in x.children)), None)
    if value is None or cond is None or not any(x.dep_ == "nsubj" and x.lower_ == "you" for x in cond.children) \
            or any(x.dep_ == "aux" and x.lower_ in HYPOTHETICAL_MODALS | {"'d"} for x in root.children):
        return False
    for thing in (t for t in cond.subtree if t.dep_ == "dobj" and t.pos_ == "NOUN"):
        for_me = [p for p in (*thing.children, *thing.head.children) if p.dep_ in ("prep", "dative")
                  and (p.lower_ in ("me", "us") or p.lower_ == "for" and any(
                      o.lower_ in ("me", "us") for o in p.children))]
        if for_me:
            words = [t for t in sent[value.left_edge.i - sent.start:value.right_edge.i - sent.start + 1]]
            said = "".join(t.text_with_ws for t in words).strip(" ,")
            what = re.sub(r"^(an?|the)\s+", "", said)
            owner = "The user" if speaker == USER else speaker
            c.add(speaker, thing.lemma_.lower(), what, None, value, text=f"{owner}'s {thing.lemma_.lower()} is {said}.")
            return True
    return False


def _verbless(sent, speaker: str, c: _Clause) -> None:
    """Shapes the small parser reads as a possessive, the "'s" being "is": "My brother's Dorran." (no verb:
    Dorran is the root, brother its possessor), "Ruari's a teacher" (the same with a noun) and "Mum's called
    Genny" ("called" a modifier of Genny)."""
    root = sent.root
    if root.pos_ == "NOUN" and any(x.dep_ == "det" and x.lower_ in ("a", "an") for x in root.children):
        # "Ruari's a primary school teacher": no verb, Ruari its possessor; a possessive takes no "a"
        p = next((x for x in root.children if x.dep_ == "poss" and is_name(x)
                  and any(y.dep_ == "case" for y in x.children)), None)
        if p is not None:
            who = value_of(p)
            what, said = (re.sub(rf"^{re.escape(who)}'s\s*", "", x)
                          for x in (phrase(root), phrase(root, keep_det=True)))
            c.add(who, "work as" if is_job(root) else "be", what, None, root, text=f"{who} is {said}.")
    if root.pos_ == "PROPN" and not any(t.pos_ in ("VERB", "AUX") for t in sent):
        for p in (x for x in root.children if x.dep_ == "poss" and x.pos_ == "NOUN"):
            owner = possessor(p, speaker)
            if owner is not None and any(x.dep_ == "case" for x in p.children):
                c.add(owner, relation_noun(p), value_of(root), None, root)
    for t in sent:
        # "My birthday's the 9th of March": a date with the possessed noun as its possessor, or the "'s" a
        # particle with the noun for its subject
        if t.ent_type_ == "DATE" and t.pos_ in ("NOUN", "PROPN", "NUM"):
            p = next((x for x in t.children if x.dep_ == "poss" and x.pos_ == "NOUN"
                      and any(y.dep_ == "case" for y in x.children)), None)
            if p is None and t.dep_ == "attr" and t.head.pos_ == "PART" and t.head.lower_ in ("'s", "’s"):
                p = next((x for x in t.head.children if x.dep_ == "nsubj" and x.pos_ == "NOUN"), None)
            owner = possessor(p, speaker) if p is not None else None
            if owner is not None:
                c.add(owner, relation_noun(p), value_of(t), None, t)
        if t.lower_ in ("called", "named") and t.dep_ == "amod" and is_name(t.head):
            p = next((x for x in t.head.children if x.dep_ == "poss" and is_name(x)
                      and any(y.dep_ == "case" for y in x.children)), None)
            if p is not None:
                c.add(value_of(p), "be called", value_of(t.head), None, t.head)


def _contacts(sent, speaker: str, c: _Clause) -> None:
    """Phone numbers and e-mail addresses belong to the person named nearest before them (else the speaker)."""
    text = sent.text
    for pattern, relation in ((PHONE, "phone number"), (EMAIL, "email")):
        for m in pattern.finditer(text):
            if relation == "phone number" and YEARS.match(m.group(0)):
                continue
            start = sent.start_char + m.start()
            people = [t for t in sent if (is_name(t) or t._.refers) and t.idx < start and t.dep_ not in ("compound",)
                      and not _is_time(t) and t.pos_ != "NUM"]
            owner = (people[-1]._.refers or name_of(people[-1])) if people else speaker
            digits = re.sub(r"\D", "", m.group(0))
            c.out[:] = [t for t in c.out if not (relation == "phone number" and re.sub(r"\D", "", t.object)
                                                 and re.sub(r"\D", "", t.object) in digits
                                                 or relation == "email" and m.group(0) in t.object)]
            c.add(owner, relation, m.group(0), None, None)
            c.out[-1:] = [Triple(t.subject, t.relation, t.object, t.text, t.qualifier, "number")
                          for t in c.out[-1:]]


def analyze(sent, speaker: str = USER) -> Analysis:
    """What one sentence (a spaCy Span) states, said by `speaker` (USER or a person's name)."""
    if is_question(sent):
        said = said_while_asking(sent)
        c = _Clause(speaker, [])
        for verb in said:
            _verb_clause(sent, verb, speaker, c)
        return Analysis("question", tuple(c.out), why="question")
    if is_small_talk(sent):
        return Analysis("small-talk", why="small-talk")
    c = _Clause(speaker, [])
    whys = []
    root = sent.root
    if root.pos_ not in ("VERB", "AUX"):  # "Every winter we ski in ...": the parser made "winter" the root
        root = next((t for t in root.children if t.dep_ in ("relcl", "acl", "ccomp") and t.pos_ == "VERB"), root)
    verbs = [root] + [t for t in sent if t.dep_ == "conj" and t.head == root and t.pos_ in ("VERB", "AUX")]
    verbs += [t for t in sent if t.dep_ == "xcomp" and t.head == sent.root and t.pos_ == "VERB"
              and root.lemma_.lower() in ("start", "begin", "keep", "continue", "love", "like", "enjoy")]
    # other clauses with a subject of their own ("I'm 29, I live in Marrowgate"), and relative clauses about a
    # name ("my friend Sol, who lives in Carrowfen, ...")
    verbs += [t for t in sent if t not in verbs and t.pos_ in ("VERB", "AUX") and t.dep_ in ("ccomp", "conj", "relcl",
                                                                                           "parataxis")
              and any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)
              and not any(c.dep_ == "mark" and c.lower_ in HYPOTHETICAL_MARKS for c in t.children)]
    verbs += [t for t in sent if t not in verbs and t.dep_ == "conj" and t.head in verbs and t.pos_ in ("VERB", "AUX")]
    blocked = _standing_order(sent, speaker, c)  # "If you ever order coffee for me, it's ..."
    for verb in verbs if not blocked else []:
        why = _verb_clause(sent, verb, speaker, c)
        if why in ("negation", "hypothetical") and verb is root and not _imperative(verb) and not _surprise(verb):
            blocked = True
            c.out.clear()
        whys.append(why)
        if blocked:
            break
    if not blocked:
        _verbless(sent, speaker, c)
        _contacts(sent, speaker, c)
    # "My husband Emeric won't come", "If my sister Ana moved ...": the apposition holds whatever the clause says
    _appositions(sent, speaker, c)
    if c.out:
        return Analysis("statement", tuple(c.out))
    return Analysis("statement", why=next((w for w in whys if w), "vague"))
