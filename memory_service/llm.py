"""An OpenAI-compatible chat endpoint as an upgrade of intake's extraction and of consolidation's question
synthesis, when one is configured (`ENGRAM_LLM__URL`, `__MODEL`, `__API_KEY`). Never a requirement: the
deterministic parse and question forms are the default and the fallback. A larger local model serves as one
through `engram serve-model` (ENGRAM_BASE_MODEL=<its folder>) with ENGRAM_LLM__URL pointing at it.

Each request asks for JSON under a schema (pydantic) and validates what comes back. A reply that does not
validate is asked once more; if that fails too (or the endpoint does not answer), the caller uses the
deterministic path and the fallback is counted in the Redis stats hash (`llm_requests:<purpose>`,
`llm_fallbacks:<purpose>`), which `/metrics` exports as `engram_llm_requests_total` and
`engram_llm_fallbacks_total`.
"""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, Field, ValidationError

from .events import Keys

log = logging.getLogger(__name__)


class LLMTriple(BaseModel):
    sentence: int = Field(..., ge=0, description="Index of the sentence it was read from")
    subject: str = Field(..., min_length=1, max_length=200)
    relation: str = Field(..., min_length=1, max_length=200)
    object: str = Field(..., min_length=1, max_length=500)
    qualifier: str | None = Field(None, max_length=200)


class LLMFacts(BaseModel):
    facts: list[LLMTriple]


EXTRACT_PROMPT = """Read durable facts from numbered sentences said by {speaker}.
Return JSON only: {{"facts": [{{"sentence": N, "subject": ..., "relation": ..., "object": ..., "qualifier": ...}}]}}.
Rules: "I", "my", "we" mean {who}. Relation: a verb lemma with its particle and preposition ("grow up in",
"work as", "be allergic to") or a possessed noun ("uncle", "phone number"); moving home is "live in". Object:
the words without articles. Time expressions ("last week") go to "qualifier", never into the object.
Questions, negations, hypotheticals, opinions and feelings give no fact."""


class LLMQuestion(BaseModel):
    item: int = Field(..., ge=0, description="Index of the fact it asks about")
    question: str = Field(..., min_length=3, max_length=300)


class LLMQuestions(BaseModel):
    questions: list[LLMQuestion]


QUESTIONS_PROMPT = """Write questions that a person could ask about numbered facts.
Each fact comes with its answer. For each fact write {n} different questions, worded differently from the fact
and from each other, whose correct answer is exactly that answer. Never put the answer in the question.
Return JSON only: {{"questions": [{{"item": N, "question": "..."}}]}}."""


def _json_text(reply: str) -> str:
    """The JSON object inside a reply (models often wrap it in a code fence or a sentence)."""
    text = reply.strip()
    if m := re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL):
        text = m.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if start >= 0 and end > start else text


def parse_reply(reply: str, schema: type[BaseModel]) -> BaseModel | None:
    try:
        return schema.model_validate_json(_json_text(reply))
    except (ValidationError, ValueError):
        return None


class LLM:
    """One configured endpoint. `redis` and `prefix`: where the request and fallback counts go."""

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout_s: float = 30.0, redis=None,
                 prefix: str = "engram"):
        from openai import OpenAI  # transport retries are the client library's

        self.client = OpenAI(base_url=url, api_key=api_key or "none", timeout=timeout_s, max_retries=1)
        self.model, self.redis, self.key = model, redis, Keys(prefix).stats

    def _count(self, field: str) -> None:
        if self.redis is not None:
            try:
                self.redis.hincrby(self.key, field, 1)
            except Exception as exc:  # noqa: BLE001 - a counter must never fail a write
                log.warning("could not count %s: %s", field, exc)

    def ask_json(self, purpose: str, system: str, user: str, schema: type[BaseModel]) -> BaseModel | None:
        """The validated reply, or None (counted as a fallback) after one retry."""
        from openai import OpenAIError

        self._count(f"llm_requests:{purpose}")
        fmt = {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()}}
        for attempt in range(2):
            try:
                reply = self.client.chat.completions.create(
                    model=self.model, temperature=0, response_format=fmt, max_tokens=512,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])
            except OpenAIError as exc:
                log.warning("LLM %s failed: %s", purpose, exc)
                break
            parsed = parse_reply(reply.choices[0].message.content or "", schema)
            if parsed is not None:
                return parsed
            log.info("LLM %s: reply did not validate (attempt %d)", purpose, attempt + 1)
        self._count(f"llm_fallbacks:{purpose}")
        return None

    def extract(self, sentences: list[str], speaker: str, who: str) -> list[list[LLMTriple]] | None:
        """Triples per sentence, or None when the deterministic parse must be used."""
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences))
        got = self.ask_json("extract", EXTRACT_PROMPT.format(speaker=speaker, who=who), numbered, LLMFacts)
        if got is None:
            return None
        out: list[list[LLMTriple]] = [[] for _ in sentences]
        for t in got.facts:
            if t.sentence < len(sentences):
                out[t.sentence].append(t)
        return out

    def questions(self, items: list[tuple[str, str]], per_item: int = 3) -> list[list[str]] | None:
        """Candidate questions for each (fact text, answer), unchecked (consolidation.synth checks them), or None
        when the deterministic questions must do."""
        numbered = "\n".join(f"{i}. {text} (answer: {answer})" for i, (text, answer) in enumerate(items))
        got = self.ask_json("questions", QUESTIONS_PROMPT.format(n=per_item), numbered, LLMQuestions)
        if got is None:
            return None
        out: list[list[str]] = [[] for _ in items]
        for q in got.questions:
            if q.item < len(items):
                out[q.item].append(q.question.strip())
        return out


def from_settings(settings, redis=None) -> LLM | None:
    """The configured endpoint (`settings.llm`), or None when none is set."""
    if not settings.llm.url:
        return None
    key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
    return LLM(settings.llm.url, settings.llm.model, key, settings.llm.timeout_s, redis, settings.redis.key_prefix)


def counts(r, prefix: str) -> dict[str, dict[str, int]]:
    """{"requests": {purpose: n}, "fallbacks": {purpose: n}} from the stats hash."""
    raw = {k.decode(): int(v) for k, v in r.hgetall(Keys(prefix).stats).items() if k.startswith(b"llm_")}
    out: dict[str, dict[str, int]] = {"requests": {}, "fallbacks": {}}
    for key, n in raw.items():
        kind, purpose = key.split(":", 1)
        out["requests" if kind == "llm_requests" else "fallbacks"][purpose] = n
    return out

