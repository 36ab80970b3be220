"""An optional LLM judge for LoCoMo's "J" score, over any OpenAI-compatible chat endpoint (off by default).

    engram eval SCENARIOS --judge-url http://127.0.0.1:8090/v1 --judge-model NAME   # key: ENGRAM_JUDGE_API_KEY

Published LoCoMo J scores come from a judge that labels each answer CORRECT or WRONG against the gold answer,
generously (same topic and the same referent count; a date in another format counts). The prompt below follows
that protocol. The judge must reply with JSON {"label": "CORRECT" | "WRONG"}; a reply that does not parse is asked
once more, and if it still does not parse the probe is left unjudged (None) and counted, never guessed.
The J score is only as good as the judge model: with a small local model it is a smoke test of the plumbing.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field

PROMPT = """Label an answer to a question as CORRECT or WRONG.
You get a question (asked about a conversation between two people), the gold answer, and a generated answer.
Be generous: if the generated answer refers to the same thing as the gold answer, even at more length or in other
words, it is CORRECT. For time questions, a date or period in another format that means the same time is CORRECT.
An answer that names something else, or says it does not know, is WRONG.

Question: {question}
Gold answer: {gold}
Generated answer: {answer}

Reply with JSON only: {{"label": "CORRECT"}} or {{"label": "WRONG"}}."""

log = logging.getLogger(__name__)
_LABEL = re.compile(r'"label"\s*:\s*"(CORRECT|WRONG)"', re.IGNORECASE)


def parse_label(reply: str) -> bool | None:
    """True for CORRECT, False for WRONG, None when the reply is not the JSON the judge was asked for."""
    text = reply.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and str(data.get("label", "")).upper() in ("CORRECT", "WRONG"):
        return str(data["label"]).upper() == "CORRECT"
    m = _LABEL.search(text)  # JSON wrapped in prose
    return None if m is None else m.group(1).upper() == "CORRECT"


@dataclass
class Judge:
    base_url: str
    model: str
    api_key: str = field(default_factory=lambda: os.environ.get("ENGRAM_JUDGE_API_KEY", "none"))
    timeout_s: float = 60.0
    asked: int = 0
    retried: int = 0
    unjudged: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        from openai import OpenAI  # transport retries and errors are the client library's

        self._client = OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=2)

    def check(self) -> None:
        """Fail before a long run starts when the endpoint does not answer (ValueError naming it)."""
        from openai import OpenAIError

        try:
            self._client.models.list()
        except OpenAIError as exc:
            raise ValueError(f"--judge-url {self.base_url}: {exc}") from exc

    def __call__(self, question: str, gold: str, answer: str) -> bool | None:
        from openai import OpenAIError

        self.asked += 1
        content = PROMPT.format(question=question, gold=gold, answer=answer or "(no answer)")
        for attempt in range(2):
            try:
                reply = self._client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": content}], temperature=0,
                    max_tokens=16, response_format={"type": "json_object"})
            except OpenAIError as exc:  # after the client's own retries: this probe stays unjudged
                log.warning("judge %s failed: %s", self.base_url, exc)
                self.errors += 1
                break
            label = parse_label(reply.choices[0].message.content or "")
            if label is not None:
                return label
            if attempt == 0:
                self.retried += 1
        self.unjudged += 1
        return None

    def stats(self) -> dict:
        return {"base_url": self.base_url, "model": self.model, "asked": self.asked, "retried": self.retried,
                "unjudged": self.unjudged, "errors": self.errors}
