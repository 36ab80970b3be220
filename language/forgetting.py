"""Requests to forget, read from the parse wherever they sit in a sentence and however their target is named:
"Forget that I drive a red Halvik.", "Actually, could you forget what I said about my rent?", "I'd rather you
didn't remember my old address.", "Delete everything about my ex.", "My PIN is 4471. Please don't keep that."

A request is a verb of erasing (forget, delete, scratch, get rid of ...) not negated, or a verb of keeping
(keep, remember, hold on to ...) negated or stopped, said to the agent: an imperative, or with "you" as its
subject ("could you", "I'd rather you didn't"), or "we" with a modal ("Can we forget about my landlord?"), or a
passive wish about what was said ("I'd rather it wasn't kept"). "I forgot my keys", "Don't forget my sister's
birthday is in May" and "Mum wants to erase her photos" are not requests. Pure logic over a spaCy sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS

from .lexicon import CALLED, UNREAL_PAST
from .matching import same_word

ERASING = {"forget", "delete", "erase", "remove", "drop", "scratch", "wipe", "clear", "discard", "purge", "bin",
           "ditch", "unlearn"}
KEEPING = {"keep", "remember", "store", "save", "hold", "hang", "retain", "record", "note", "log"}
STOPPING = {"stop", "quit", "cease"}
# what a request says its target is made of, not the target itself: "the part about my rent", "the Varna thing"
WRAPPERS = {"part", "bit", "thing", "stuff", "fact", "detail", "info", "information", "business", "one"}
ALL = {"everything", "anything", "all"}
POINTING_BACK = {"that", "it", "this"}
TELLING = {"say", "tell", "mention", "write", "share", "know", "note"}
MODALS = {"can", "could", "shall", "should", "may"}
WANTING = {"want", "like", "wish", "need"}  # "I don't want you to remember ...": the wish is what is negated


@dataclass(frozen=True)
class ForgetRequest:
    target: str | None  # what to forget, as said ("my rent"); None: what was said just before
    everything: bool = False  # "everything about my ex": every statement about it, not the one best match


def forget_request(sent) -> ForgetRequest | None:
    """The request to forget that the sentence (a spaCy Span) makes, or None when it makes none."""
    for verb in sent:
        word = verb.lemma_.lower() if verb.pos_ in ("VERB", "AUX") else verb.lower_
        if verb.lower_ in UNREAL_PAST and any(t.lower_ in ("rather", "wish") for t in sent[:verb.i - sent.start]):
            word = UNREAL_PAST[verb.lower_]  # "I'd rather you forgot ...", a wish; "You forgot my birthday!" is not
        erasing = word in ERASING or word == "get" and any(c.lower_ == "rid" for c in verb.children)
        keeping = word in KEEPING and (_negated(verb) or verb.dep_ in ("xcomp", "ccomp") and (
            verb.head.lemma_.lower() in STOPPING or verb.head.lemma_.lower() in WANTING and _negated(verb.head)))
        if erasing and _negated(verb) or not (erasing or keeping):
            continue
        if any(c.dep_ == "dative" for c in verb.children):
            continue  # "Drop Hesper a line": given to someone, not taken away
        if verb.dep_ == "intj" and verb.tag_ == "VB" and verb.i == sent.start:
            # "Forget I said that.": the parser hung the clause's verb above the imperative
            return _target(sent, verb, [verb.head])
        if verb.dep_ not in ("ROOT", "conj", "ccomp", "xcomp", "advcl", "parataxis") or not _to_the_agent(verb):
            continue
        return _target(sent, verb)
    return None


def _negated(verb) -> bool:
    return any(c.dep_ == "neg" for c in verb.children)


def _subject(verb):
    """The subject a verb has, or the one it takes from the verb it completes ("Would you mind forgetting": you;
    "Mum wants to erase": Mum); None for an imperative."""
    while True:
        subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "expl")), None)
        if subject is not None or verb.dep_ not in ("xcomp", "conj") or verb.head is verb:
            return subject
        verb = verb.head


def _to_the_agent(verb) -> bool:
    subject = _subject(verb)
    if subject is None:
        # an imperative: the first word of its clause, or after "please", "just", "oh no,", "ugh," ...
        # ("Delete that" may be tagged a participle; "Deleted it yesterday." is a statement)
        return verb.tag_ in ("VB", "VBP") or verb.lower_ in ERASING | KEEPING or verb.dep_ == "xcomp" and (
            verb.head.lemma_.lower() in STOPPING | {"mind"})
    said = subject.lower_
    if said == "you":
        return True
    if said == "we":  # "Can we forget about my landlord?"
        return any(c.dep_ == "aux" and c.lower_ in MODALS for c in verb.children)
    if subject.i + 1 < len(subject.doc) and subject.doc[subject.i + 1].lower_ == "," and all(
            c.is_punct for c in subject.children):
        return True  # "Ugh, forget the driving test thing": the parser made the interjection the subject
    # "I'd rather it wasn't kept": a wish that what was said be not kept
    return subject.dep_ == "nsubjpass" and said in POINTING_BACK and verb.lemma_.lower() in KEEPING


def _target(sent, verb, objects=None) -> ForgetRequest:
    if objects is None:
        objects = [c for c in verb.children if c.dep_ in ("dobj", "ccomp", "xcomp", "npadvmod", "nsubjpass", "relcl")]
        objects += [o for p in _preps(verb) for o in p.children if o.dep_ in ("pobj", "pcomp")]
    objects = [o for o in objects if o.dep_ != "xcomp" or o.lemma_.lower() in ERASING | KEEPING]
    # a clause before the verb is not what it erases: "I'd rather you forgot my bank details"
    objects = [o for o in objects if not (o.dep_ in ("ccomp", "xcomp") and o.i < verb.i)]
    about = _about(sent, exclude=verb)
    for obj in sorted(objects, key=lambda t: t.i):
        if obj.lower_ in POINTING_BACK:
            return ForgetRequest(about or None)
        if obj.lower_ in ALL or obj.lower_ == "what" or obj.lemma_.lower() in WRAPPERS:
            inner = _about(obj.subtree, exclude=None) or about
            wrapped = _words(t for t in obj.subtree if t.i < obj.i and t.dep_ in ("compound", "amod", "nmod"))
            return ForgetRequest(inner or wrapped or None, everything=obj.lower_ in ALL)
        if obj.dep_ == "ccomp" or obj.pos_ in ("VERB", "AUX"):
            if obj.lemma_.lower() in TELLING:  # "Forget I said that", "what I told you about Priya's wedding"
                inner = _about(obj.subtree, exclude=None)
                return ForgetRequest(inner or about)
            return ForgetRequest(_said(obj.subtree, lambda t: t.dep_ != "mark" and not t.is_punct) or None)
        return ForgetRequest(_words(obj.subtree) or None)
    return ForgetRequest(about)


def _preps(verb):
    """The prepositions a verb's object hangs on: "forget about", "hold on to", "get rid of"."""
    out = [c for c in verb.children if c.dep_ == "prep" and c.lower_ in ("about", "of", "to")]
    out += [p for c in verb.children if c.lower_ == "rid" for p in c.children if p.dep_ == "prep"]
    out += [p for c in verb.children if c.dep_ == "prt" for p in c.children if p.dep_ == "prep"]
    return out


def _about(tokens, exclude) -> str | None:
    """What an "about" in `tokens` names ("what I said about my rent" -> "my rent"), or None."""
    for t in tokens:
        if t.lower_ == "about" and t.dep_ == "prep" and t.head is not exclude:
            obj = next((c for c in t.children if c.dep_ in ("pobj", "pcomp")), None)
            if obj is not None:
                return _words(obj.subtree)
    return None


def _words(tokens) -> str:
    """The words of a target as said, without articles, punctuation and wrapper nouns ("the driving test thing"
    -> "driving test")."""
    return _said(tokens, lambda t: not t.is_punct and t.lower_ not in ("the", "a", "an")
                 and not (t.lemma_.lower() in WRAPPERS and t.dep_ in ("dobj", "pobj", "ROOT")))


def _said(tokens, keep) -> str:
    """The kept tokens as said: a token left out still leaves its space ("that, I'd" -> "that I'd")."""
    out = "".join(t.text_with_ws if keep(t) else t.whitespace_ for t in tokens)
    return " ".join(out.split())


def called_words(text: str) -> set[str]:
    """The words a statement of what a request calls a fact says, beyond the request's own ("my old address" ->
    "live"): they break a tie between statements that say as many of the request's own words, never more."""
    words = about_words(text)
    return {w for said in words for w in CALLED.get(said, ())} - words


def about_words(text: str) -> set[str]:
    """The words that say what a text is about, to match a request's target with what was stored: lower-cased,
    stop words (spaCy's list) and "user" aside, each also without a plural "s" ("antidepressants" matches
    "antidepressant")."""
    words = {w for w in re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.lower().replace("\u2019", "'"))
             if w not in STOP_WORDS and w != "user"}
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def shared(request: set[str], said: set[str]) -> int:
    """How many of a request's words a text says, inflections aside ("arrest" is said by "arrested", not
    "organ" by "organization": language.matching's rule)."""
    return sum(1 for w in request if w in said or any(same_word(w, x) for x in said))
