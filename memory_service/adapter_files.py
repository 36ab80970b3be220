"""What a published adapter version is and how its files are checked, for both registries (folder and object
storage) and the agent that loads their versions: a version is v<N>, its folder holds peft's safetensors files
and a manifest with their hashes, and it is loaded only after `verify_folder`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

VERSION_RE = re.compile(r"^v([0-9]{1,9})$")
WEIGHTS = "adapter_model.safetensors"  # peft's file name; peft would fall back to a pickled .bin without it
# What a version folder may hold besides manifest.json: peft's save_pretrained writes the weights, the config
# and a README model card. Anything else (a .bin, .pt, .pkl next to the weights) makes the version unloadable.
ALLOWED_SUFFIXES = (".safetensors", ".json", ".md")


def check_version(value: int | str, field: str = "version") -> int:
    """1, "1" or "v1" -> 1; anything else (negative, "1/../x", "latest") is refused before it reaches a path."""
    text = str(value) if not isinstance(value, bool) else ""
    m = re.fullmatch(r"v?([0-9]{1,9})", text)
    if not m or int(m.group(1)) < 1:
        raise InvalidInput(f"invalid {field} {value!r}: a positive number, optionally written v<N>", field=field)
    return int(m.group(1))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def publishable_files(folder: Path) -> list[Path]:
    """The files a publish's `write(folder)` saved, checked as verify_folder will check them later: the weights
    are there, and nothing but safetensors/json/md files."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    names = [p.name for p in files]
    if WEIGHTS not in names:
        raise InvalidInput(f"adapter folder has no {WEIGHTS}", field="adapter")
    if bad := [n for n in names if not n.endswith(ALLOWED_SUFFIXES)]:
        raise InvalidInput(f"adapter folder holds {', '.join(bad)}: only safetensors/json/md files", field="adapter")
    return files


@dataclass(frozen=True)
class AdapterRef:
    namespace: str
    topic: str
    version: int
    path: Path

    @property
    def name(self) -> str:
        """A peft adapter name, unique per version (peft ignores a re-add under an existing name)."""
        return f"{self.namespace}__{self.topic}__v{self.version}".replace(".", "_").replace("@", "_")

    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())


def verify_folder(ref: AdapterRef) -> dict:
    """Check a version before anything loads it: it is the version its manifest says, its weights are
    safetensors, it holds exactly the files the manifest lists, and each matches its hash."""

    def refuse(why: str) -> InvalidInput:
        return InvalidInput(f"adapter {ref.name}: {why}; refusing to load it", field="adapter")

    try:
        manifest = ref.manifest()
    except (OSError, ValueError) as exc:
        raise refuse(f"unreadable manifest ({type(exc).__name__})") from exc
    files = manifest.get("files") or {}
    claimed = (manifest.get("namespace"), manifest.get("topic"), manifest.get("version"))
    if claimed != (ref.namespace, ref.topic, ref.version):
        raise refuse(f"its manifest describes {claimed}, not this folder")
    if WEIGHTS not in files:
        raise refuse(f"the manifest lists no {WEIGHTS}")
    present = {p.name for p in ref.path.iterdir()} - {"manifest.json"}
    for name in sorted(present | set(files)):
        if not name.endswith(ALLOWED_SUFFIXES):
            raise refuse(f"{name} is not a safetensors/json/md file")
        if name not in files:
            raise refuse(f"{name} is not in its manifest")
        if name not in present:
            raise refuse(f"{name} is missing")
        if sha256_file(ref.path / name) != files[name]:
            raise refuse(f"{name} does not match its manifest hash")
    return manifest
