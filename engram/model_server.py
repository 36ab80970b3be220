"""`engram serve-model`: the configured base model behind the OpenAI chat-completions API.

It lets every component that can talk to an OpenAI-compatible endpoint (the evaluation's LLM judge, the LLM
extraction path) run offline against the same model the service uses, and it is the real server those paths are
tested against. Greedy decoding only: `temperature` and `top_p` are accepted and ignored, `max_tokens` is honoured,
`response_format` is not enforced (the client validates what it gets, as it must with any endpoint).
"""

from __future__ import annotations

import threading
import time
import uuid

from fastapi import FastAPI
from pydantic import BaseModel, Field


class Message(BaseModel):
    role: str = Field(..., pattern="^(system|user|assistant)$")
    content: str


class ChatRequest(BaseModel):
    model: str = ""
    messages: list[Message] = Field(..., min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=1024)
    temperature: float | None = None  # accepted; decoding is greedy
    response_format: dict | None = None  # accepted; the client validates the reply


def create_model_app(base, name: str, default_max_tokens: int = 128) -> FastAPI:
    """`base`: a loaded consolidation.model.BaseModel. One request generates at a time (the model is shared)."""
    app = FastAPI(title="engram model server", version="1")
    lock = threading.Lock()
    tok, model = base.tokenizer, base.model

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "engram"}]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict:
        import torch

        from consolidation.model import messages_prompt

        prompt = messages_prompt(tok, [m.model_dump() for m in req.messages])
        enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
        with lock, torch.no_grad():
            ids = model.generate(**enc, max_new_tokens=req.max_tokens or default_max_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        new = ids[0, enc["input_ids"].shape[1]:]
        text = tok.decode(new, skip_special_tokens=True).strip()
        finished = "stop" if len(new) and int(new[-1]) == tok.eos_token_id else "length"
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finished}],
            "usage": {"prompt_tokens": int(enc["input_ids"].shape[1]), "completion_tokens": int(len(new)),
                      "total_tokens": int(enc["input_ids"].shape[1] + len(new))},
        }

    return app
