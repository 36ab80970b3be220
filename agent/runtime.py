"""Adapter runtime: one base model, topic adapters loaded by name from the registry, new versions hot-swapped
in place, top-k TIES merges built once and cached, least-recently-used adapters unloaded.

peft keeps the active adapter as global state, so every load/activate/generate happens under one lock, and
all of it runs on the runtime's one torch thread, whichever thread asks: torch's OpenMP keeps a pool of workers
per thread that runs parallel ops and stops spinning between ops once there are more of them than cores
(memory_service.threads), so generating from whichever thread a request arrived on (the batcher, a server's
pool) cost 60% more per token.
With `batch_size` > 1, concurrent questions (one per chat request, any namespaces) wait up to `batch_wait_ms`
for each other and are answered by one generate call, each row with its own adapter (peft's mixed-adapter
batches, `adapter_names=`): N users with N adapters cost one forward pass per token instead of N passes and N
swaps.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from consolidation.model import BaseModel, generate_scored
from memory_service.adapter_files import AdapterRef
from memory_service.registry import Registry

log = logging.getLogger(__name__)


def slot_name(ref: AdapterRef) -> str:
    """One peft adapter slot per topic; its versions replace each other in place."""
    return f"{ref.namespace}__{ref.topic}".replace(".", "_").replace("@", "_").replace("-", "_")


def on_torch_thread(method):
    """Run `method` on the runtime's torch thread (see the module docstring); calls made there run directly."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if threading.current_thread() in self._torch_thread:
            return method(self, *args, **kwargs)
        return self._torch.submit(method, self, *args, **kwargs).result()

    return run


def _record_thread(into: list) -> None:
    into.append(threading.current_thread())


@dataclass
class Pending:
    """One question waiting to be batched."""

    question: str
    refs: list[AdapterRef]
    context: str | None
    max_new_tokens: int
    done: threading.Event = field(default_factory=threading.Event)
    answer: str = ""
    adapter: str | None = None
    confidence: float = 0.0
    error: BaseException | None = None


@dataclass
class Slot:
    ref: AdapterRef
    rank: int
    last_used: float = field(default_factory=time.monotonic)


class AdapterRuntime:
    def __init__(self, base: BaseModel, registry: Registry, max_loaded: int = 16, max_merges: int = 8,
                 ties_density: float = 0.5, batch_size: int = 1, batch_wait_ms: float = 5.0):
        self.base, self.registry = base, registry
        self.max_loaded, self.max_merges, self.density = max_loaded, max_merges, ties_density
        self.pm = None  # the PeftModel, created with the first adapter
        self.slots: OrderedDict[str, Slot] = OrderedDict()  # LRU order
        self.merges: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # merge name -> slot@version names
        self.lock = threading.RLock()
        self.stats = {"loads": 0, "hotswaps": 0, "merges": 0, "evictions": 0}
        self.min_new_tokens = 0  # benchmarks fix the answer length to compare modes at equal output
        self.batch_size, self.batch_wait_s = batch_size, batch_wait_ms / 1000
        self._pending: queue.Queue[Pending] = queue.Queue()
        self._batcher: threading.Thread | None = None
        self.stats.update(batches=0, batched_rows=0)
        # the thread is recorded in a list, not by a method of self: its frame would keep the runtime alive
        self._torch_thread: list[threading.Thread] = []
        self._torch = ThreadPoolExecutor(1, thread_name_prefix="engram-torch", initializer=_record_thread,
                                         initargs=(self._torch_thread,))

    # loading ---------------------------------------------------------------------------------------------
    @on_torch_thread
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
    @on_torch_thread
    def prepare(self, refs: list[AdapterRef]) -> str | None:
        """Load what `refs` need and return the adapter that answers with them: one adapter as is; several as a
        cached TIES merge. None = the base model."""
        if not refs:
            return None
        with self.lock, torch.inference_mode():
            names = [self.ensure(r) for r in refs]
            if len(names) == 1:
                return names[0]
            parts = tuple(sorted(f"{n}@{self.slots[n].ref.version}" for n in names))
            target = "merge_" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]
            if target in self.merges:
                self.merges.move_to_end(target)
                return target
            try:
                # "ties_svd": TIES on each adapter's whole change B @ A, brought back to the largest rank by SVD.
                # peft's "ties" merges the A and the B factors one by one, which mixes one adapter's A with
                # another's B (huggingface/peft#3004); on the natural scenario its merges answered 2 of 18
                # questions that the notes alone answered 12 of (docs/results.md).
                self.pm.add_weighted_adapter(names, [1.0] * len(names), target, combination_type="ties_svd",
                                             density=self.density)
            except ValueError as exc:  # peft refuses these adapters together (e.g. other target modules)
                log.warning("cannot merge %s (%s); using the best one", names, exc)
                return names[0]
            self.merges[target] = parts
            self.stats["merges"] += 1
            while len(self.merges) > self.max_merges:
                old, _ = self.merges.popitem(last=False)
                if self.pm.active_adapter == old:
                    self._park()
                self.pm.delete_adapter(old)
            return target

    @on_torch_thread
    def activate(self, refs: list[AdapterRef]) -> str | None:
        """prepare() and make it peft's active adapter."""
        with self.lock, torch.inference_mode():
            target = self.prepare(refs)
            if target is not None and self.pm.active_adapter != target:
                self.pm.set_adapter(target, inference_mode=True)
            return target

    def answer(self, questions: list[str], refs: list[AdapterRef], contexts: list[str | None] | None = None,
               max_new_tokens: int = 32) -> tuple[list[str], str | None]:
        """Greedy answers with the given adapters active (none: the base model)."""
        scored, active = self.answer_scored(questions, refs, contexts, max_new_tokens)
        return [a for a, _ in scored], active

    @on_torch_thread
    def answer_scored(self, questions: list[str], refs: list[AdapterRef], contexts: list[str | None] | None = None,
                      max_new_tokens: int = 32) -> tuple[list[tuple[str, float]], str | None]:
        """answer(), each answer with its confidence (consolidation.model.generate_scored)."""
        with self.lock, torch.inference_mode():
            active = self.activate(refs)
            if active is None and self.pm is not None:
                with self.pm.disable_adapter():
                    out = generate_scored(self.pm, self.base.tokenizer, questions, max_new_tokens,
                                          context=contexts, min_new_tokens=self.min_new_tokens)
            else:
                model = self.pm if self.pm is not None else self.base.model
                out = generate_scored(model, self.base.tokenizer, questions, max_new_tokens, context=contexts,
                                      min_new_tokens=self.min_new_tokens)
            return out, active

    # batching --------------------------------------------------------------------------------------------
    def answer_one(self, question: str, refs: list[AdapterRef], context: str | None = None,
                   max_new_tokens: int = 32) -> tuple[str, str | None, float]:
        """One chat turn's answer, the adapter that gave it and its confidence; with batching on, answered
        together with whatever else arrives meanwhile."""
        if self.batch_size <= 1:
            ((out, confidence),), adapter = self.answer_scored([question], refs, [context], max_new_tokens)
            return out, adapter, confidence
        item = Pending(question, refs, context, max_new_tokens)
        with self.lock:
            if self._batcher is None:
                self._batcher = threading.Thread(target=self._batch_loop, name="answer-batcher", daemon=True)
                self._batcher.start()
        self._pending.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.answer, item.adapter, item.confidence

    def _batch_loop(self) -> None:
        while True:
            batch = [self._pending.get()]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._pending.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                self._answer_batch(batch)
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for item in batch:
                    item.error = exc
            for item in batch:
                item.done.set()

    @on_torch_thread
    def _answer_batch(self, batch: list[Pending]) -> None:
        """One generate call for all rows, each with its own adapter; a batch of one takes the plain path."""
        if len(batch) == 1:
            b = batch[0]
            ((b.answer, b.confidence),), b.adapter = self.answer_scored([b.question], b.refs, [b.context],
                                                                        b.max_new_tokens)
            return
        with self.lock, torch.inference_mode():
            targets: list[str | None] = []
            for b in batch:
                try:
                    targets.append(self.prepare(b.refs))
                except Exception as exc:  # noqa: BLE001 - e.g. a tampered adapter: that row's error alone
                    b.error = exc
                    targets.append(None)
            # a batch needing more adapters than the LRU budget evicts some it prepared: those rows go alone
            alone = [i for i, t in enumerate(targets) if t is not None and t not in self.pm.peft_config]
            for i in alone:
                b = batch[i]
                ((b.answer, b.confidence),), b.adapter = self.answer_scored([b.question], b.refs, [b.context],
                                                                            b.max_new_tokens)
            keep = [i for i, b in enumerate(batch) if i not in alone and b.error is None]
            batch, targets = [batch[i] for i in keep], [targets[i] for i in keep]
            if not batch:
                return
            questions, contexts = [b.question for b in batch], [b.context for b in batch]
            longest = max(b.max_new_tokens for b in batch)
            if self.pm is None:  # no adapter was ever loaded: every row is the base model
                out = generate_scored(self.base.model, self.base.tokenizer, questions, longest, context=contexts,
                                      min_new_tokens=self.min_new_tokens, batch_size=len(batch))
            else:
                out = generate_scored(self.pm, self.base.tokenizer, questions, longest, context=contexts,
                                      min_new_tokens=self.min_new_tokens, batch_size=len(batch),
                                      adapter_names=[t or "__base__" for t in targets])
            self.stats["batches"] += 1
            self.stats["batched_rows"] += len(batch)
        for b, (text, confidence), target in zip(batch, out, targets):
            b.answer, b.confidence, b.adapter = text, confidence, target
