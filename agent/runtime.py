"""Adapter runtime: one base model, topic adapters loaded by name from the registry, new versions hot-swapped
in place, top-k TIES merges built once and cached, least-recently-used adapters unloaded.

peft keeps the active adapter as global state, so every load/activate/generate happens under one lock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import torch

from consolidation.model import BaseModel, generate
from memory_service.registry import AdapterRef, Registry

log = logging.getLogger(__name__)


def slot_name(ref: AdapterRef) -> str:
    """One peft adapter slot per topic; its versions replace each other in place."""
    return f"{ref.namespace}__{ref.topic}".replace(".", "_").replace("@", "_").replace("-", "_")


@dataclass
class Slot:
    ref: AdapterRef
    rank: int
    last_used: float = field(default_factory=time.monotonic)


class AdapterRuntime:
    def __init__(self, base: BaseModel, registry: Registry, max_loaded: int = 16, max_merges: int = 8,
                 ties_density: float = 0.5):
        self.base, self.registry = base, registry
        self.max_loaded, self.max_merges, self.density = max_loaded, max_merges, ties_density
        self.pm = None  # the PeftModel, created with the first adapter
        self.slots: OrderedDict[str, Slot] = OrderedDict()  # LRU order
        self.merges: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # merge name -> slot@version names
        self.lock = threading.RLock()
        self.stats = {"loads": 0, "hotswaps": 0, "merges": 0, "evictions": 0}
        self.min_new_tokens = 0  # benchmarks fix the answer length to compare modes at equal output

    # loading ---------------------------------------------------------------------------------------------
    def ensure(self, ref: AdapterRef) -> str:
        """Make `ref` loaded (verifying its manifest hashes first); returns its slot name."""
        from peft import PeftModel
        from peft.utils.hotswap import hotswap_adapter

        # Everything the runtime loads lives in inference mode (no autograd, and in-place hot-swaps of tensors
        # created under it are only allowed under it).
        with self.lock, torch.inference_mode():
            name = slot_name(ref)
            slot = self.slots.get(name)
            if slot is not None and slot.ref.version == ref.version:
                slot.last_used = time.monotonic()
                self.slots.move_to_end(name)
                return name
            manifest = self.registry.verify(ref)
            rank = int(manifest.get("recipe", {}).get("rank", 0))
            if self.pm is None:
                self.pm = PeftModel.from_pretrained(self.base.model, str(ref.path), adapter_name=name,
                                                    is_trainable=False, low_cpu_mem_usage=True)
                self.stats["loads"] += 1
            elif slot is not None and slot.rank == rank:
                hotswap_adapter(self.pm, str(ref.path), adapter_name=name)  # new version, same shape: in place
                self._drop_merges_with(name)
                self.stats["hotswaps"] += 1
            else:
                if slot is not None:
                    self._delete(name)
                self.pm.load_adapter(str(ref.path), adapter_name=name, is_trainable=False, low_cpu_mem_usage=True)
                self.stats["loads"] += 1
            self.slots[name] = Slot(ref, rank)
            self._evict()
            return name

    def _delete(self, name: str) -> None:
        self._drop_merges_with(name)
        if self.pm is not None and name in self.pm.peft_config:
            if self.pm.active_adapter == name:
                self._park()
            self.pm.delete_adapter(name)
        self.slots.pop(name, None)

    def _park(self) -> None:
        """peft cannot delete the active adapter: activate another one first."""
        others = [n for n in self.pm.peft_config if n != self.pm.active_adapter]
        if others:
            self.pm.set_adapter(others[0], inference_mode=True)

    def _drop_merges_with(self, name: str) -> None:
        for merged, parts in list(self.merges.items()):
            if any(p.split("@")[0] == name for p in parts):
                if self.pm.active_adapter == merged:
                    self._park()
                self.pm.delete_adapter(merged)
                del self.merges[merged]

    def _evict(self) -> None:
        while len(self.slots) > self.max_loaded:
            oldest = next(iter(self.slots))
            self._delete(oldest)
            self.stats["evictions"] += 1

    # activation ------------------------------------------------------------------------------------------
    def activate(self, refs: list[AdapterRef]) -> str | None:
        """Load and activate: one adapter as is; several as a cached TIES merge. None = base model."""
        if not refs:
            return None
        with self.lock, torch.inference_mode():
            names = [self.ensure(r) for r in refs]
            if len(names) == 1:
                target = names[0]
            else:
                parts = tuple(sorted(f"{n}@{self.slots[n].ref.version}" for n in names))
                target = "merge_" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]
                if target not in self.merges:
                    try:
                        self.pm.add_weighted_adapter(names, [1.0] * len(names), target,
                                                     combination_type="ties", density=self.density)
                    except ValueError as exc:  # e.g. different ranks: TIES needs equal ones
                        log.warning("cannot merge %s (%s); using the best one", names, exc)
                        target = names[0]
                    else:
                        self.merges[target] = parts
                        self.stats["merges"] += 1
                        while len(self.merges) > self.max_merges:
                            old, _ = self.merges.popitem(last=False)
                            if self.pm.active_adapter == old:
                                self._park()
                            self.pm.delete_adapter(old)
                else:
                    self.merges.move_to_end(target)
            if self.pm.active_adapter != target:
                self.pm.set_adapter(target, inference_mode=True)
            return target

    def answer(self, questions: list[str], refs: list[AdapterRef], contexts: list[str | None] | None = None,
               max_new_tokens: int = 32) -> tuple[list[str], str | None]:
        """Greedy answers with the given adapters active (none: the base model)."""
        with self.lock, torch.inference_mode():
            active = self.activate(refs)
            if active is None and self.pm is not None:
                with self.pm.disable_adapter():
                    out = generate(self.pm, self.base.tokenizer, questions, max_new_tokens, context=contexts,
                                   min_new_tokens=self.min_new_tokens)
            else:
                model = self.pm if self.pm is not None else self.base.model
                out = generate(model, self.base.tokenizer, questions, max_new_tokens, context=contexts,
                               min_new_tokens=self.min_new_tokens)
            return out, active
