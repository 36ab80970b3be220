"""API keys: generated once, stored only as sha256 hashes, each allowed a list of namespace patterns.

Keys come from two places, merged: `Settings.auth.keys` (hash -> patterns, e.g. from the environment) and the
keys file `engram keys add` writes (re-read when it changes, so a key added while the server runs works at once).
Auth is on as soon as either holds a key; with none, every request is let through (local development).

A key is 32 random bytes, so a plain sha256 is enough: a slow password hash protects guessable secrets, and
these are not guessable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

KEY_PREFIX = "engram_"  # makes a leaked key easy to recognise (secret scanners, logs)
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# Namespace characters plus the fnmatch wildcards * and ?; no [..] classes, no '/'.
PATTERN_RE = re.compile(r"^[A-Za-z0-9_.@*?-]{1,128}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_hash(value: str, field: str = "sha256") -> str:
    if not isinstance(value, str) or not HASH_RE.fullmatch(value):
        raise InvalidInput(f"invalid {field} entry {str(value)[:16]!r}…: expected the 64-hex sha256 of a key, "
                           "never the key itself", field=field)
    return value


def check_pattern(value: str, field: str = "namespace") -> str:
    if not isinstance(value, str) or not PATTERN_RE.fullmatch(value):
        raise InvalidInput(f"invalid {field} pattern {value!r}: namespace characters and the wildcards * ?",
                           field=field)
    return value


def allowed(patterns: list[str], namespace: str) -> bool:
    return any(fnmatchcase(namespace, p) for p in patterns)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


@dataclass
class KeyEntry:
    sha256: str
    namespaces: list[str]
    label: str = ""
    created_at: float = 0.0


class KeyFile:
    """A JSON file of hashed keys: {"keys": [{"sha256", "namespaces", "label", "created_at"}, ...]}."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> list[KeyEntry]:
        try:
            raw = json.loads(self.path.read_text())
            entries = [KeyEntry(**e) for e in raw.get("keys", [])]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"keys file {self.path} is not valid: {exc}", field="auth.keys_file") from exc
        for e in entries:
            check_hash(e.sha256, f"{self.path}")
            for p in e.namespaces:
                check_pattern(p, f"{self.path}")
        return entries

    def add(self, namespaces: list[str], label: str = "") -> tuple[str, KeyEntry]:
        """A new key for `namespaces`; returns the key (shown once, never stored) and its entry."""
        if not namespaces:
            raise InvalidInput("a key needs at least one --namespace pattern", field="namespace")
        for p in namespaces:
            check_pattern(p)
        key = new_key()
        entry = KeyEntry(hash_key(key), list(namespaces), label, time.time())
        self._save(self.load() + [entry])
        return key, entry

    def revoke(self, prefix: str) -> KeyEntry:
        """Remove the one key whose hash starts with `prefix` (as `engram keys list` shows it)."""
        entries = self.load()
        matches = [e for e in entries if len(prefix) >= 8 and e.sha256.startswith(prefix.lower())]
        if len(matches) != 1:
            raise NotFound(f"{len(matches)} keys match {prefix!r}; give at least 8 hex characters of one hash",
                           field="sha256")
        self._save([e for e in entries if e is not matches[0]])
        return matches[0]

    def _save(self, entries: list[KeyEntry]) -> None:
        # Written beside the file and renamed over it, so the server never reads half a file; 0600 because the
        # hashes are not secret, but the namespace grants are nobody else's business.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"keys": [asdict(e) for e in entries]}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class KeyRing:
    """What the API checks a request's key against: configured hashes plus the keys file."""

    def __init__(self, configured: dict[str, list[str]], keys_file: Path | None = None):
        self.configured = dict(configured)
        self.file = KeyFile(keys_file) if keys_file else None
        self._stamp: tuple | None = None
        self._from_file: dict[str, list[str]] = {}

    @classmethod
    def from_settings(cls, auth) -> "KeyRing":  # auth: settings.AuthSettings
        return cls(auth.keys, auth.keys_file)

    def keys(self) -> dict[str, list[str]]:
        if self.file is not None:
            try:
                st = self.file.path.stat()
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp:  # one stat per request; re-parsed only when the file changed
                try:
                    self._from_file = {e.sha256: e.namespaces for e in self.file.load()} if stamp else {}
                except InvalidInput as exc:
                    # fail closed: a broken keys file must not turn auth off
                    raise ServiceUnavailable("auth", exc.message) from exc
                self._stamp = stamp
        return {**self._from_file, **self.configured}

    @property
    def enabled(self) -> bool:
        return bool(self.keys())

    def authorize(self, key: str | None, namespace: str | None) -> None:
        """Raise Unauthorized (no or unknown key) or Forbidden (namespace not granted); None = any namespace."""
        keys = self.keys()
        if not keys:
            return
        if not key:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>' (ENGRAM_API_KEY for the CLI)")
        patterns = keys.get(hash_key(key))
        if patterns is None:
            raise Unauthorized("unknown API key")
        if namespace is not None and not allowed(patterns, namespace):
            raise Forbidden(f"this API key may not use namespace {namespace!r}", field="namespace")


def warn_if_open(host: str, ring: KeyRing) -> bool:
    """Auth is off without keys, which is right on a laptop and wrong on a network; say so at start-up."""
    if ring.enabled or is_loopback(host):
        return False
    log.warning("the API listens on %s without API keys: anyone who reaches it can read and write every "
                "namespace. Create one with `engram keys add --namespace <pattern>`.", host)
    return True
