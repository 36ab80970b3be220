"""The language package's own errors: callers in other packages map them to theirs."""

from __future__ import annotations


class LanguageError(Exception):
    """English could not be analysed at all (not: a sentence could not be read, which is never an error)."""


class PipelineMissing(LanguageError):
    """The spaCy pipeline is not installed."""
