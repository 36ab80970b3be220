"""Adapter registry on disk, shared by the service, the workers and the agent.

    adapters/<ns>/<topic>/v<N>/adapter_model.safetensors   standard peft files (README: Serving elsewhere)
                              /adapter_config.json
                              /manifest.json                 facts, hashes, recipe, gate results, base model
    adapters/<ns>/<topic>/current                            "v<N>": the newest version that passed the gate

A version is written to a hidden temp folder and renamed into place, so a reader never sees a half version;
`current` is replaced atomically. Namespace, topic and version are validated before any path is built, and a
version is loaded only after `verify` (adapter_files.py): safetensors weights, every file listed in the
manifest with its hash.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Callable

from .adapter_files import VERSION_RE, AdapterRef, check_version, publishable_files, sha256_file, verify_folder
from .errors import InvalidInput, NotFound
from .schemas import NAMESPACE_RE, TOPIC_RE, check_namespace, check_topic


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_registry(settings, changed: Callable[[], object] | None = None):
    """The registry the settings choose: the folder under DATA_DIR, or object storage when
    ENGRAM_REGISTRY__URL=s3://bucket/prefix is set. `changed`: a token that moves when an adapter is published
    (agents list current versions again only then, or after `index_max_age_s`)."""
    r = settings.registry
    if not r.url:
        return Registry(settings.adapters_dir, settings.consolidation.keep_versions)
    from .registry_s3 import S3Registry

    return S3Registry(r.url, r.cache_dir, settings.consolidation.keep_versions, endpoint_url=r.endpoint_url,
                      region=r.region, access_key_id=r.access_key_id,
                      secret_access_key=r.secret_access_key.get_secret_value() if r.secret_access_key else None,
                      index_max_age_s=r.index_max_age_s, changed=changed)


class Registry:
    def __init__(self, root: Path, keep_versions: int = 3):
        self.root = Path(root)
        self.keep_versions = keep_versions

    def topic_dir(self, ns: str, topic: str) -> Path:
        check_namespace(ns)
        check_topic(topic)
        return self.root / ns / topic

    def versions(self, ns: str, topic: str) -> list[int]:
        d = self.topic_dir(ns, topic)
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for p in d.iterdir() if (m := VERSION_RE.match(p.name)) and p.is_dir())

    def ref(self, ns: str, topic: str, version: int | str) -> AdapterRef:
        version = check_version(version)
        path = self.topic_dir(ns, topic) / f"v{version}"
        if not path.is_dir():
            raise NotFound(f"adapter {ns}/{topic}/v{version} not found", field="version")
        return AdapterRef(ns, topic, version, path)

    def current(self, ns: str, topic: str) -> AdapterRef | None:
        pointer = self.topic_dir(ns, topic) / "current"
        try:
            name = pointer.read_text().strip()
        except FileNotFoundError:
            return None
        m = VERSION_RE.match(name)
        if not m:
            raise InvalidInput(f"corrupt pointer {pointer}: {name!r}", field="version")
        return self.ref(ns, topic, int(m.group(1)))

    def topics(self, ns: str, with_current: bool = True) -> list[str]:
        """Topic folders of a namespace (only valid slugs), by default those with a current version."""
        check_namespace(ns)
        d = self.root / ns
        if not d.is_dir():
            return []
        return sorted(p.name for p in d.iterdir() if TOPIC_RE.fullmatch(p.name) and p.is_dir()
                      and (not with_current or (p / "current").exists()))

    def namespaces(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and NAMESPACE_RE.fullmatch(p.name))

    def summary(self) -> dict[str, dict[str, int]]:
        """Per namespace: topics with a current version and versions kept on disk (status and /metrics)."""
        out = {}
        for ns in self.namespaces():
            topics = self.topics(ns, with_current=False)
            out[ns] = {"topics": sum((self.root / ns / t / "current").exists() for t in topics),
                       "versions": sum(len(self.versions(ns, t)) for t in topics)}
        return out

    def publish(self, ns: str, topic: str, write: Callable[[Path], None], manifest: dict) -> AdapterRef:
        """`write(folder)` saves the peft files; the manifest gets their hashes. Atomic: all or nothing.

        Callers hold the per-topic consolidation lock, so version numbers cannot race.
        """
        d = self.topic_dir(ns, topic)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            write(tmp)
            files = publishable_files(tmp)
            version = (self.versions(ns, topic) or [0])[-1] + 1
            manifest = {**manifest, "namespace": ns, "topic": topic, "version": version,
                        "files": {p.name: sha256_file(p) for p in files}, "published_at": time.time()}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
            for p in tmp.iterdir():
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
            final = d / f"v{version}"
            os.rename(tmp, final)
            self._point(d, version)
            _fsync_dir(d)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.prune(ns, topic)
        return AdapterRef(ns, topic, version, final)

    def _point(self, d: Path, version: int) -> None:
        tmp = d / f".current-{uuid.uuid4().hex}"
        tmp.write_text(f"v{version}\n")
        os.replace(tmp, d / "current")

    def rollback(self, ns: str, topic: str, version: int | str) -> AdapterRef:
        ref = self.ref(ns, topic, version)
        self._point(self.topic_dir(ns, topic), version)
        return ref

    def retire(self, ns: str, topic: str) -> None:
        """The topic has no active facts left: no version is current any more (the versions stay for rollback)."""
        (self.topic_dir(ns, topic) / "current").unlink(missing_ok=True)

    def prune(self, ns: str, topic: str) -> None:
        current = self.current(ns, topic)
        for v in self.versions(ns, topic)[: -self.keep_versions or None]:
            if current is None or v != current.version:
                shutil.rmtree(self.topic_dir(ns, topic) / f"v{v}", ignore_errors=True)
        for stray in self.topic_dir(ns, topic).glob(".tmp-*"):  # left by a killed writer
            if time.time() - stray.stat().st_mtime > 3600:
                shutil.rmtree(stray, ignore_errors=True)

    def verify(self, ref: AdapterRef) -> dict:
        return verify_folder(ref)

