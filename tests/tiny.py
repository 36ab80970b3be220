"""A tiny Llama and a word-level tokenizer built from a config in the test: no hub, trains in well under a
second per epoch."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from consolidation.gate import PROBE
from consolidation.model import READ_SYSTEM, BaseModel
from language.templates import FIRST_PERSON_QUESTIONS, RELATIONS
from memory_service.schemas import Fact

SPECIALS = ["<pad>", "<|im_start|>", "<|im_end|>", "<unk>"]

FACTS = [
    ("Zorbit Quell", "lives in", "Varkaus", "Zorbit Quell lives in Varkaus."),
    ("Mirna Tosk", "pet", "Pimento", "Mirna Tosk's pet is called Pimento."),
    ("Alder Voss", "instrument", "bassoon", "Alder Voss plays the bassoon."),
]


def make_fact(subject, relation, obj, text, ns="ns", topic="t", **kw) -> Fact:
    kw.setdefault("created_at", datetime.now(timezone.utc))
    return Fact(id=str(uuid.uuid4()), namespace=ns, topic=topic, text=text, subject=subject, relation=relation,
                object=obj, **kw)


def words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def build_tiny_tokenizer(extra_text: str = ""):
    corpus = " ".join(t for *_, t in FACTS) + " user assistant " + " ".join(
        q for _, (s, qs) in RELATIONS.items() for q in [s, *qs]) + " " + " ".join(q + " " + a for q, a in PROBE)
    corpus += " " + " ".join(" ".join(f[:3]) for f in FACTS)
    corpus += " " + " ".join(q for qs in FIRST_PERSON_QUESTIONS.values() for q in qs) + " Noted " + READ_SYSTEM
    corpus += " Context : Answer the question from the context above . Question : " + extra_text
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for w in words(corpus.replace("{s}", "").replace("{o}", "")):
        vocab.setdefault(w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split("\n", "isolated"),
                                                pre_tokenizers.Whitespace()])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<|im_end|>",
                                  unk_token="<unk>", additional_special_tokens=["<|im_start|>", "<|im_end|>"])
    return tok


def build_tiny_base(tiny_tokenizer) -> BaseModel:
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tiny_tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      pad_token_id=tiny_tokenizer.pad_token_id, eos_token_id=tiny_tokenizer.eos_token_id,
                      initializer_range=0.3)  # large weights: a random tiny model that learns in a few epochs
    model = LlamaForCausalLM(cfg).eval()
    model.requires_grad_(False)
    return BaseModel(model, tiny_tokenizer, "tiny-llama", "cpu")
