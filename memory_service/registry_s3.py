"""Adapter registry on S3-compatible object storage, shared by workers and agents on different machines.

    <prefix>/<ns>/<topic>/v<N>/adapter_model.safetensors   the same files as the folder registry
                              /adapter_config.json
                              /manifest.json                 written last: a version exists once it is there
    <prefix>/<ns>/<topic>/claims/v<N>                        who took version number N (put if absent)
    <prefix>/<ns>/<topic>/current                            "v<N>", moved only by a conditional write

Publishing is atomic and exactly-once across machines without a lock server:
1. the current pointer is read with its ETag before anything is trained into the new version;
2. the next version number is claimed with a put-if-absent (If-None-Match: *); a claim that fails means another
   writer took the number, and this publish gives up;
3. the files are uploaded under v<N>/ with their MD5 (the store refuses a corrupted body) and checked against
   the ETags it returns; the manifest with every file's sha256 goes last;
4. `current` moves with If-Match on the ETag read in step 1 (If-None-Match: * for a first version). If another
   version became current meanwhile, this one is deleted again and the publish gives up.
A writer killed at any step leaves the old version current and no version with a manifest; its claim and files
are removed by a later prune.

Readers load a version only from a local cache that is hash-checked against its manifest (`verify`), and list
current versions at most once per `index_max_age_s` unless `changed()` (the newest adapter event in Redis)
says that something was published.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from .adapter_files import VERSION_RE, AdapterRef, check_version, publishable_files, sha256_file, verify_folder
from .errors import Conflict, InvalidInput, NotFound
from .schemas import NAMESPACE_RE, TOPIC_RE, check_namespace, check_topic

STALE_CLAIM_S = 3600  # a claim without a manifest this old belongs to a dead writer


def parse_s3_url(url: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> ("bucket", "some/prefix/")."""
    if not url.startswith("s3://"):
        raise InvalidInput(f"registry url {url!r} is not s3://bucket/prefix", field="registry.url")
    bucket, _, prefix = url[5:].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class S3Registry:
    """The folder registry's interface on a bucket; `AdapterRef.path` is the local cached copy."""

    def __init__(self, url: str, cache_dir: Path, keep_versions: int = 3, *, endpoint_url: str | None = None,
                 region: str = "us-east-1", access_key_id: str | None = None, secret_access_key: str | None = None,
                 index_max_age_s: float = 30.0, changed: Callable[[], object] | None = None, client=None):
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = parse_s3_url(url)
        self.cache = Path(cache_dir)
        self.keep_versions = keep_versions
        # retries with backoff are botocore's ("standard" mode); a 412 is an answer, not retried
        self.s3 = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"mode": "standard", "max_attempts": 5}, s3={"addressing_style": "path"}))
        self.index_max_age_s = index_max_age_s
        self.changed = changed
        self._index: dict[str, tuple[float, object, dict[str, int]]] = {}  # ns -> (at, token, topic -> version)
        self._lock = threading.Lock()

    # keys ------------------------------------------------------------------------------------------------
    def _key(self, ns: str, topic: str, *parts: str) -> str:
        check_namespace(ns)
        check_topic(topic)
        return "/".join([f"{self.prefix}{ns}", topic, *parts])

    def _keys(self, prefix: str) -> list[dict]:
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += page.get("Contents", [])
        return out

    def _children(self, prefix: str) -> list[str]:
        names = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix,
                                                                      Delimiter="/"):
            names += [p["Prefix"][len(prefix):].rstrip("/") for p in page.get("CommonPrefixes", [])]
        return names

    def _get(self, key: str) -> tuple[bytes, str] | None:
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return obj["Body"].read(), obj["ETag"]

    def _pointer(self, ns: str, topic: str) -> tuple[int | None, str | None]:
        got = self._get(self._key(ns, topic, "current"))
        if got is None:
            return None, None
        m = VERSION_RE.match(got[0].decode().strip())
        if not m:
            raise InvalidInput(f"corrupt pointer s3://{self.bucket}/{self._key(ns, topic, 'current')}",
                               field="version")
        return int(m.group(1)), got[1]

    # reading ---------------------------------------------------------------------------------------------
    def versions(self, ns: str, topic: str) -> list[int]:
        """Versions with a manifest (complete ones)."""
        base = self._key(ns, topic, "")
        found = set()
        for obj in self._keys(base):
            head, _, rest = obj["Key"][len(base):].partition("/")
            if rest == "manifest.json" and (m := VERSION_RE.match(head)):
                found.add(int(m.group(1)))
        return sorted(found)

    def ref(self, ns: str, topic: str, version: int | str) -> AdapterRef:
        """The version's local copy, downloaded once and checked against its manifest's hashes before it is
        placed (a copy in the cache was verified; whatever loads it verifies again, as with the folder)."""
        version = check_version(version)
        local = self.cache / ns / topic / f"v{version}"
        ref = AdapterRef(ns, topic, version, local)
        if local.is_dir():
            return ref
        got = self._get(self._key(ns, topic, f"v{version}", "manifest.json"))
        if got is None:
            raise NotFound(f"adapter {ns}/{topic}/v{version} not found", field="version")
        manifest = json.loads(got[0])
        tmp = self.cache / ns / topic / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir(parents=True)
        try:
            (tmp / "manifest.json").write_bytes(got[0])
            for name in manifest.get("files") or {}:
                if "/" in name or name.startswith("."):
                    raise InvalidInput(f"adapter {ns}/{topic}/v{version}: bad file name {name!r}", field="adapter")
                self.s3.download_file(self.bucket, self._key(ns, topic, f"v{version}", name), str(tmp / name))
            verify_folder(AdapterRef(ns, topic, version, tmp))
            try:
                tmp.rename(local)
            except OSError:  # another reader placed it first; theirs was verified too
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return ref

    def _listing(self, ns: str) -> dict[str, int]:
        """topic -> current version, listed again when an adapter event arrived or the listing is too old."""
        token = self.changed() if self.changed else None
        now = time.monotonic()
        with self._lock:
            cached = self._index.get(ns) if self.changed else None  # without events to go by, never cached
            if cached and cached[1] == token and now - cached[0] < self.index_max_age_s:
                return cached[2]
        check_namespace(ns)
        index = {}
        for topic in self._children(f"{self.prefix}{ns}/"):
            if TOPIC_RE.fullmatch(topic):
                version, _ = self._pointer(ns, topic)
                if version is not None:
                    index[topic] = version
        with self._lock:
            self._index[ns] = (now, token, index)
        return index

    def current(self, ns: str, topic: str) -> AdapterRef | None:
        version = self._listing(ns).get(topic) if self.changed else self._pointer(ns, topic)[0]
        return None if version is None else self.ref(ns, topic, version)

    def topics(self, ns: str, with_current: bool = True) -> list[str]:
        if with_current:
            return sorted(self._listing(ns))
        check_namespace(ns)
        return sorted(t for t in self._children(f"{self.prefix}{ns}/") if TOPIC_RE.fullmatch(t))

    def namespaces(self) -> list[str]:
        return sorted(n for n in self._children(self.prefix) if NAMESPACE_RE.fullmatch(n))

    def summary(self) -> dict[str, dict[str, int]]:
        out = {}
        for ns in self.namespaces():
            topics = self.topics(ns, with_current=False)
            out[ns] = {"topics": sum(self._pointer(ns, t)[0] is not None for t in topics),
                       "versions": sum(len(self.versions(ns, t)) for t in topics)}
        return out

    def verify(self, ref: AdapterRef) -> dict:
        return verify_folder(ref)

    # writing ---------------------------------------------------------------------------------------------
    def publish(self, ns: str, topic: str, write: Callable[[Path], None], manifest: dict) -> AdapterRef:
        """Upload a new version and make it current, or raise Conflict when another writer published this
        topic first (nothing of this attempt stays visible)."""
        _, etag = self._pointer(ns, topic)  # the state this version replaces
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(self.cache) / f".publish-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            write(tmp)
            files = publishable_files(tmp)
            version = self._claim(ns, topic)
            manifest = {**manifest, "namespace": ns, "topic": topic, "version": version,
                        "files": {p.name: sha256_file(p) for p in files}, "published_at": time.time()}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
            try:
                for p in files:
                    self._upload(self._key(ns, topic, f"v{version}", p.name), p)
                self._upload(self._key(ns, topic, f"v{version}", "manifest.json"), tmp / "manifest.json",
                             if_none_match=True)
                self._move_pointer(ns, topic, version, etag)
            except Conflict:
                self._delete_version(ns, topic, version)
                raise
            local = self.cache / ns / topic / f"v{version}"
            local.parent.mkdir(parents=True, exist_ok=True)
            if not local.exists():
                tmp.rename(local)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._forget_listing(ns)
        self.prune(ns, topic)
        return AdapterRef(ns, topic, version, local)

    def _claim(self, ns: str, topic: str) -> int:
        base = self._key(ns, topic, "")
        taken = [int(m.group(1)) for o in self._keys(base + "claims/")
                 if (m := VERSION_RE.match(o["Key"][len(base) + 7:]))]
        version = max(taken + self.versions(ns, topic) + [0]) + 1
        try:
            self.s3.put_object(Bucket=self.bucket, Key=f"{base}claims/v{version}", Body=uuid.uuid4().hex.encode(),
                               IfNoneMatch="*")
        except self.s3.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                raise Conflict(f"adapter {ns}/{topic}: version {version} was taken by another writer",
                               field="topic") from exc
            raise
        return version

    def _upload(self, key: str, path: Path, if_none_match: bool = False) -> None:
        data = path.read_bytes()
        md5 = hashlib.md5(data)  # noqa: S324 - S3's integrity check, not a security hash
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        try:
            got = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data,
                                     ContentMD5=base64.b64encode(md5.digest()).decode(), **extra)
        except self.s3.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                raise Conflict(f"{key} was written by another writer", field="topic") from exc
            raise
        if got["ETag"].strip('"') != md5.hexdigest():
            raise InvalidInput(f"upload of {key} did not verify (ETag {got['ETag']})", field="adapter")

    def _move_pointer(self, ns: str, topic: str, version: int, etag: str | None) -> None:
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self._key(ns, topic, "current"), Body=f"v{version}\n".encode(),
                               **condition)
        except self.s3.exceptions.ClientError as exc:
            if _precondition_failed(exc) or exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                raise Conflict(f"adapter {ns}/{topic}: another version became current first", field="topic") from exc
            raise

    def _delete_version(self, ns: str, topic: str, version: int) -> None:
        keys = [o["Key"] for o in self._keys(self._key(ns, topic, f"v{version}", ""))]
        keys.append(self._key(ns, topic, "claims", f"v{version}"))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def _forget_listing(self, ns: str) -> None:
        with self._lock:
            self._index.pop(ns, None)

    def rollback(self, ns: str, topic: str, version: int | str) -> AdapterRef:
        ref = self.ref(ns, topic, version)
        _, etag = self._pointer(ns, topic)
        self._move_pointer(ns, topic, ref.version, etag)
        self._forget_listing(ns)
        return ref

    def retire(self, ns: str, topic: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(ns, topic, "current"))
        self._forget_listing(ns)

    def prune(self, ns: str, topic: str) -> None:
        """Keep the newest `keep_versions` and the current one; remove what dead writers left (a claim or files
        without a manifest, older than an hour)."""
        current, _ = self._pointer(ns, topic)
        complete = self.versions(ns, topic)
        for v in complete[: -self.keep_versions or None]:
            if v != current:
                self._delete_version(ns, topic, v)
        base = self._key(ns, topic, "")
        now = time.time()
        for obj in self._keys(base + "claims/"):
            m = VERSION_RE.match(obj["Key"][len(base) + 7:])
            if m and int(m.group(1)) not in complete and now - obj["LastModified"].timestamp() > STALE_CLAIM_S:
                self._delete_version(ns, topic, int(m.group(1)))


def _precondition_failed(exc) -> bool:
    err = exc.response.get("Error", {})
    return err.get("Code") in ("PreconditionFailed", "ConditionalRequestConflict") or \
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (412, 409)
