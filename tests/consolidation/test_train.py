"""The training loop on a tiny Llama: the cached-lower-layers trick is exact, it memorises, and the base model
comes back untouched."""

import torch
import torch.nn.functional as F

from memory_service.consolidation.synth import build_dataset
from memory_service.consolidation.train import Recipe, Stack, lora_config, make_batches, train_adapter


def test_split_stack_matches_full_forward(tiny_base, tiny_facts):
    from peft import get_peft_model

    tok = tiny_base.tokenizer
    ds = build_dataset(tiny_facts)
    pm = get_peft_model(tiny_base.model, lora_config(tiny_base, Recipe(top_layers=2, rank=4, alpha=8)))
    with torch.no_grad():  # make the adapter non-zero so the comparison means something
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    stack = Stack(tiny_base.model, first_trainable=2)
    for b in make_batches(tok, ds.train, 4, tok.pad_token_id):
        with torch.no_grad():
            split = stack.upper_logits(stack.lower(b.ids), b.answer_mask)
            full = pm(input_ids=b.ids).logits[:, :-1][b.answer_mask]
        torch.testing.assert_close(split, full, atol=1e-4, rtol=1e-4)
    pm.unload()


def test_lora_only_in_top_layers(tiny_base):
    cfg = lora_config(tiny_base, Recipe(top_layers=2))
    assert cfg.layers_to_transform == [2, 3]
    assert set(cfg.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    assert lora_config(tiny_base, Recipe(top_layers=None)).layers_to_transform is None


def test_memorises_and_restores_base(tiny_base, tiny_facts):
    before = {k: v.clone() for k, v in tiny_base.model.state_dict().items()}
    ds = build_dataset(tiny_facts, short=True)
    seen = []
    pm, res = train_adapter(tiny_base, ds.train, Recipe(rank=8, alpha=16, lr=1e-2, top_layers=2, max_epochs=60,
                                                        batch_size=2), progress=seen.append)
    assert res.taught_exact == 1.0 and all(res.exact_rows) and res.epochs < 60  # stopped early
    assert seen[-1]["epoch"] == res.epochs and seen[0]["loss"] > seen[-1]["loss"]
    # greedy decoding reproduces a taught answer
    tok = tiny_base.tokenizer
    qa = ds.train[0]
    from memory_service.llm import chat_prompt

    ids = tok(chat_prompt(tok, qa.question), return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = pm.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert qa.expected in tok.decode(out[0, ids.shape[1]:])
    pm.unload()
    after = tiny_base.model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_loss_only_on_answer_tokens(tiny_base, tiny_facts):
    tok = tiny_base.tokenizer
    ds = build_dataset(tiny_facts[:1], taught_forms=1, short=True)
    (b,) = make_batches(tok, ds.train, 8, tok.pad_token_id)
    answer = tok(ds.train[0].answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert b.ids[:, 1:][b.answer_mask].tolist() == answer
    stack = Stack(tiny_base.model, 0)
    logits = stack.upper_logits(stack.lower(b.ids), b.answer_mask)
    assert logits.shape[0] == len(answer)
    assert F.cross_entropy(logits, b.ids[:, 1:][b.answer_mask]).item() > 0
