"""LoRA training loop (peft) tuned for CPU: short prompts, loss and logits only at answer positions, LoRA in the
upper layers only with the frozen lower layers' activations computed once, the last layer's MLP and the softmax
restricted to what the loss needs, and early stopping on a cheap teacher-forced check (every answer token is the
argmax => greedy decoding reproduces the answer exactly).
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from memory_service.settings import Recipe

from .model import BaseModel, chat_prompt, token_id
from .synth import QA

log = logging.getLogger(__name__)


@dataclass
class Batch:
    ids: torch.Tensor  # (B, T) right-padded token ids
    answer_mask: torch.Tensor  # (B, T-1) True where position t predicts an answer token t+1
    rows: list[int]  # indices into the example list
    cached: torch.Tensor | None = None  # (B, T, H) input of the first trainable layer


@dataclass
class TrainResult:
    epochs: int
    steps: int
    loss: float
    seconds: float
    taught_exact: float
    history: list[dict] = field(default_factory=list)
    exact_rows: list[bool] = field(default_factory=list)  # per example, teacher-forced exact at the end


def encode(tok, qa: QA) -> tuple[list[int], int]:
    """Token ids of prompt+answer+end (no end for an answer that was cut short: the base model had not finished),
    and the prompt length (loss starts after it). A `raw` example is plain
    text with no chat format and loss on all of it (the raw-text baseline of the QA-vs-raw experiment)."""
    if qa.kind == "raw":
        text = tok(qa.answer, add_special_tokens=False)["input_ids"]
        start = [tok.bos_token_id] if tok.bos_token_id is not None else [tok.eos_token_id]
        return start + text + [tok.eos_token_id], 1
    prompt = tok(chat_prompt(tok, qa.question, qa.context), add_special_tokens=False)["input_ids"]
    answer = tok(qa.answer, add_special_tokens=False)["input_ids"]
    end = token_id(tok, "<|im_end|>")
    end = tok.eos_token_id if end is None else end
    return prompt + answer + ([end] if qa.ends else []), len(prompt)


def make_batches(tok, examples: list[QA], batch_size: int, pad_id: int,
                 groups: dict[str, int] | None = None) -> list[Batch]:
    """Batches of similar lengths; with `groups` (fact id -> neighbourhood, synth.neighbours), a neighbourhood's
    examples are consecutive, so neighbours share a batch (examples of no fact, such as replay, come last)."""
    encoded = [encode(tok, qa) for qa in examples]
    if groups:
        last = len(groups)
        order = sorted(range(len(examples)),
                       key=lambda i: (groups.get(examples[i].fact_id, last), len(encoded[i][0])))
    else:
        order = sorted(range(len(examples)), key=lambda i: len(encoded[i][0]))  # similar lengths share a batch
    batches = []
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        T = max(len(encoded[i][0]) for i in rows)
        ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), T - 1), dtype=torch.bool)
        for b, i in enumerate(rows):
            seq, plen = encoded[i]
            ids[b, : len(seq)] = torch.tensor(seq)
            mask[b, plen - 1: len(seq) - 1] = True  # position t predicts token t+1
        batches.append(Batch(ids, mask, rows))
    return batches


# Decoder layers known to compute `h + attn(norm1(h))`, then `h + mlp(norm2(h))`: for these the last layer's MLP
# can run at the answer positions only (see Stack.upper_logits). Other architectures run the whole layer.
PRE_NORM_LAYERS = {"LlamaDecoderLayer", "MistralDecoderLayer", "Qwen2DecoderLayer", "Qwen3DecoderLayer"}


class Stack:
    """Runs a causal LM's decoder stack in two parts: frozen lower layers once, trainable upper layers often.

    Right padding + a causal mask means pad tokens never influence real positions, so no padding mask is needed.
    """

    def __init__(self, model, first_trainable: int):
        self.model = model
        self.inner = model.get_decoder() if hasattr(model, "get_decoder") else model.model
        self.layers = self.inner.layers
        self.first = first_trainable

    def _rope(self, h: torch.Tensor):
        pos = torch.arange(h.shape[1], device=h.device).unsqueeze(0)
        return pos, self.inner.rotary_emb(h, position_ids=pos)

    def _run(self, h: torch.Tensor, layers, pos, rope) -> torch.Tensor:
        for layer in layers:
            out = layer(h, attention_mask=None, position_ids=pos, position_embeddings=rope)
            h = out[0] if isinstance(out, tuple) else out
        return h

    @torch.no_grad()
    def lower(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.inner.embed_tokens(ids)
        return self._run(h, self.layers[: self.first], *self._rope(h))

    def upper_logits(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model.get_output_embeddings()(self.upper_hidden(h, mask))

    def upper_hidden(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Final hidden states at the positions that predict an answer token (`mask`), flattened.

        The last layer's output matters only there: its attention still reads every position, but its MLP
        (three quarters of a layer's compute) runs on the answer positions alone, a fifth of the tokens."""
        pos, rope = self._rope(h)
        *body, last = self.layers[self.first:]
        h = self._run(h, body, pos, rope)
        if type(last).__name__ in PRE_NORM_LAYERS:
            attn = last.self_attn(hidden_states=last.input_layernorm(h), attention_mask=None, position_ids=pos,
                                  position_embeddings=rope)[0]
            h = (h + attn)[:, :-1][mask]
            h = h + last.mlp(last.post_attention_layernorm(h))
        else:
            h = self._run(h, [last], pos, rope)[:, :-1][mask]
        return self.inner.norm(h)


class Candidates:
    """A softmax over a few hundred candidate tokens instead of the whole vocabulary (sampled softmax).

    At the answer positions the loss only has to raise the answer token over its competitors, and those are the
    tokens the model already ranks high there: the base model's top-N, measured once. The output layer is a
    large share of each step (49k x 576 on SmolLM2, forward and backward), so this saves much of a step. A
    token outside the set that wins anyway is found by the full-vocabulary check that decides when to stop and is
    added to the set (`grow`); the gate then decodes greedily over the whole vocabulary, so it stays exact."""

    def __init__(self, out_emb: torch.nn.Module, tokens: set[int]):
        self.out = out_emb
        self.tokens = set(tokens)
        self._select()

    def _select(self) -> None:
        self.ids = ids = torch.tensor(sorted(self.tokens), device=self.out.weight.device)
        self.index = torch.full((self.out.weight.shape[0],), -1, dtype=torch.long, device=ids.device)
        self.index[ids] = torch.arange(len(ids), device=ids.device)  # vocabulary id -> candidate position
        self.weight = self.out.weight.detach()[ids]
        bias = getattr(self.out, "bias", None)
        self.bias = bias.detach()[ids] if bias is not None else None

    def grow(self, tokens: set[int]) -> int:
        """Add tokens; returns how many were new."""
        new = set(tokens) - self.tokens
        if new:
            self.tokens |= new
            self._select()
        return len(new)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.weight, self.bias)


def _rows_exact(hit: torch.Tensor, mask: torch.Tensor, rows: list[int], counted: list[bool]) -> int:
    """Number of counted rows whose answer tokens are all hits; `hit` is flat over the masked positions."""
    counts = mask.sum(1).tolist()
    return sum(bool(chunk.all()) for chunk, r in zip(torch.split(hit, counts), rows) if counted[r])


def exact_rate(stack: Stack, batches: list[Batch], counted: list[bool] | None = None,
               misses: set[int] | None = None) -> tuple[float, list[bool]]:
    """Share of (counted) examples whose every answer token is the argmax under teacher forcing. Tokens that
    won where the answer token should have are added to `misses` when given."""
    n_rows = sum(len(b.rows) for b in batches)
    counted = counted or [True] * n_rows
    ok = [False] * n_rows
    with torch.no_grad():
        for b in batches:
            pred = stack.upper_logits(b.cached, b.answer_mask).argmax(-1)
            hit = pred == b.ids[:, 1:][b.answer_mask]
            if misses is not None:
                misses.update(pred[~hit].tolist())
            per_row = b.answer_mask.sum(1).tolist()
            start = 0
            for r, n in zip(b.rows, per_row):
                ok[r] = bool(hit[start:start + n].all())
                start += n
    return sum(o for o, c in zip(ok, counted) if c) / max(1, sum(counted)), ok


def linear_module_names(model) -> list[str]:
    """What peft's "all-linear" means, spelled out (peft needs a list when layers are restricted)."""
    out_emb = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, m in model.named_modules()
                   if isinstance(m, torch.nn.Linear) and m is not out_emb})


def first_trainable_layer(base: BaseModel, recipe: Recipe) -> int:
    """The lowest decoder layer that gets LoRA: the layers below it are frozen and run once per batch."""
    n_layers = base.model.config.num_hidden_layers
    return n_layers - recipe.top_layers if 0 < recipe.top_layers < n_layers else 0


def lora_config(base: BaseModel, recipe: Recipe):
    from peft import LoraConfig

    first = first_trainable_layer(base, recipe)
    layers = list(range(first, base.model.config.num_hidden_layers)) if first else None
    targets = recipe.target_modules
    if layers is not None and targets == "all-linear":
        targets = linear_module_names(base.model)
    return LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=0.0, bias="none",
                      target_modules=targets, layers_to_transform=layers, task_type="CAUSAL_LM")


class Trainer:
    """A LoRA training run that can be resumed: train until the teacher-forced check reaches a goal, let the
    caller gate it, and go on training if the gate wants more."""

    def __init__(self, base: BaseModel, examples: list[QA], recipe: Recipe,
                 progress: Callable[[dict], None] | None = None, adapter_name: str = "default",
                 groups: dict[str, int] | None = None):
        from peft import get_peft_model

        torch.manual_seed(recipe.seed)
        self.rng = random.Random(recipe.seed)
        self.t0 = time.perf_counter()
        self.recipe, self.progress = recipe, progress
        # replay examples (the base model's own answers to unrelated questions) and reverse questions ("Who is
        # Maren Coyle?") are trained on, not counted: training stops on the questions the gate checks
        self.counted = [qa.kind not in ("replay", "reverse", "augmented") for qa in examples]
        self.n = sum(self.counted)
        first = first_trainable_layer(base, recipe)
        self.pm = get_peft_model(base.model, lora_config(base, recipe), adapter_name=adapter_name)
        self.pm.train()
        self.stack = Stack(base.model, first)
        tok = base.tokenizer
        self.batches = make_batches(tok, examples, recipe.batch_size, tok.pad_token_id, groups)
        for b in self.batches:
            b.ids = b.ids.to(base.device)
            b.answer_mask = b.answer_mask.to(base.device)
            b.cached = self.stack.lower(b.ids)  # frozen: computed once for the whole run
        self.candidates = self._candidates(recipe.candidates) if recipe.candidates else None
        # KL to the base: its logits at the replay rows' answer positions, read now while the adapter is zero
        self.anchor = self._base_logits(examples) if recipe.kl > 0 else {}
        self.params = [p for p in self.pm.parameters() if p.requires_grad]
        if recipe.loraplus_ratio > 1:  # LoRA+: B learns faster than A (peft's optimizer helper)
            from peft.optimizers import create_loraplus_optimizer

            self.opt = create_loraplus_optimizer(self.pm, torch.optim.AdamW, lr=recipe.lr,
                                                 loraplus_lr_ratio=recipe.loraplus_ratio, weight_decay=0.0)
        else:
            self.opt = torch.optim.AdamW(self.params, lr=recipe.lr, weight_decay=0.0)
        self.max_epochs = max(recipe.max_epochs, math.ceil(recipe.min_steps / len(self.batches)))
        self.total = self.max_epochs * len(self.batches)
        warm = len(self.batches)  # one epoch of warm-up, then linear decay to 10% at max_epochs
        total = self.total
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min((s + 1) / warm, max(0.1, 1.0 - 0.9 * (s - warm) / max(1, total - warm))))
        self.epoch, self.steps, self.loss, self.history = 0, 0, math.nan, []
        self.exact, self.rows = 0.0, [False] * self.n

    def _candidates(self, top: int) -> Candidates:
        """The answer tokens (end of turn included) and the model's top-`top` tokens at every answer position
        (the adapter starts at zero, so this is the base model)."""
        tokens: set[int] = set()
        top = min(top, self.stack.model.get_output_embeddings().weight.shape[0])
        with torch.no_grad():
            for b in self.batches:
                tokens.update(b.ids[:, 1:][b.answer_mask].tolist())
                tokens.update(self.stack.upper_logits(b.cached, b.answer_mask).topk(top, -1).indices.flatten().tolist())
        return Candidates(self.stack.model.get_output_embeddings(), tokens)

    def _base_logits(self, examples: list[QA]) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """Per batch (keyed by the batch object's id, which shuffling keeps): (which of its answer positions belong
        to a replay row, the base model's full-vocabulary logits there). LoRA's B starts at zero, so the model now is
        the base; computed once, as the frozen lower layers are."""
        replay = [qa.kind == "replay" for qa in examples]
        out = {}
        with torch.no_grad():
            for b in self.batches:
                per_row = b.answer_mask.sum(1).tolist()
                pos = torch.cat([torch.full((n,), replay[r], dtype=torch.bool) for r, n in zip(b.rows, per_row)])
                if pos.any():
                    logits = self.stack.model.get_output_embeddings()(self.stack.upper_hidden(b.cached, b.answer_mask))
                    out[id(b)] = (pos.to(logits.device), logits[pos.to(logits.device)])
        return out

    def _kl(self, b: Batch, hidden: torch.Tensor) -> torch.Tensor | None:
        """KL(base || adapter) over the vocabulary (or the candidates, renormalised) at the batch's replay answer
        positions; None when the batch holds no replay row."""
        if id(b) not in self.anchor:
            return None
        pos, base = self.anchor[id(b)]
        if self.candidates:
            base, mine = base[:, self.candidates.ids], self.candidates.logits(hidden[pos])
        else:
            mine = self.stack.model.get_output_embeddings()(hidden[pos])
        return F.kl_div(F.log_softmax(mine, -1), F.log_softmax(base, -1), log_target=True, reduction="batchmean")

    def _check(self) -> float:
        """The full-vocabulary teacher-forced check; tokens that beat an answer join the candidates."""
        misses: set[int] | None = set() if self.candidates else None
        self.exact, self.rows = exact_rate(self.stack, self.batches, self.counted, misses)
        if misses:
            added = self.candidates.grow(misses)
            if added:
                log.info("%d tokens outside the candidates won at answer positions: added", added)
        return self.exact

    @property
    def exhausted(self) -> bool:
        return self.epoch >= self.max_epochs

    def _epoch(self) -> float:
        """One pass; returns the share of examples exact as seen during the pass (free, but measured before
        each step's update)."""
        self.pm.train()
        self.rng.shuffle(self.batches)
        losses, seen = [], 0
        for b in self.batches:
            hidden = self.stack.upper_hidden(b.cached, b.answer_mask)
            target = b.ids[:, 1:][b.answer_mask]
            if self.candidates:
                logits, target = self.candidates.logits(hidden), self.candidates.index[target]
            else:
                logits = self.stack.model.get_output_embeddings()(hidden)
            loss = F.cross_entropy(logits, target)
            if self.anchor and (kl := self._kl(b, hidden)) is not None:
                loss = loss + self.recipe.kl * kl
            seen += _rows_exact(logits.detach().argmax(-1) == target, b.answer_mask, b.rows, self.counted)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, self.recipe.clip)  # high lr, tiny batches: sane steps
            self.opt.step()
            self.sched.step()
            self.opt.zero_grad(set_to_none=True)
            self.steps += 1
            losses.append(loss.item())
        self.epoch += 1
        self.loss = sum(losses) / len(losses)
        return seen / self.n

    def train_until(self, goal: float, extra_epochs: int | None = None) -> float:
        """Train until the teacher-forced exact share reaches `goal` (or `extra_epochs` more epochs, or the
        budget ends). Returns that share; `rows` holds it per example."""
        stop_epoch = self.max_epochs if extra_epochs is None else min(self.max_epochs, self.epoch + extra_epochs)
        checked = False  # whether self.exact/self.rows describe the adapter as it is now
        while self.epoch < stop_epoch:
            seen = self._epoch()
            exact, checked = seen, False
            # only when the free estimate is already at the goal is the real check (one forward) worth it
            if self.epoch >= self.recipe.min_epochs and seen >= goal:
                exact, checked = self._check(), True
            self.history.append({"epoch": self.epoch, "loss": round(self.loss, 4), "taught_exact": round(exact, 4)})
            if self.progress:
                self.progress({"step": self.steps, "total_steps": self.total, "epoch": self.epoch,
                               "loss": self.loss, "taught_exact": exact})
            log.info("epoch %d loss %.4f exact %.3f", self.epoch, self.loss, exact)
            if exact >= goal and self.epoch >= self.recipe.min_epochs:
                break
        self.pm.eval()
        if not checked:
            self._check()
        return self.exact

    def result(self) -> TrainResult:
        return TrainResult(self.epoch, self.steps, self.loss, time.perf_counter() - self.t0, self.exact,
                           self.history, list(self.rows))


def train_adapter(base: BaseModel, examples: list[QA], recipe: Recipe,
                  progress: Callable[[dict], None] | None = None, adapter_name: str = "default"):
    """Wrap the base model with a fresh LoRA adapter and train it until recipe.stop_at.

    Returns (peft model, TrainResult). The caller must `unload()` the peft model to get the base back.
    """
    trainer = Trainer(base, examples, recipe, progress, adapter_name)
    trainer.train_until(recipe.stop_at)
    return trainer.pm, trainer.result()
