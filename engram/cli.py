"""The `engram` command line. Operations run in-process on the embedded store, or against a server (--api)."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from memory_service.errors import EngramError
from memory_service.schemas import FactIn
from memory_service.settings import MODES, Settings

from .topics_view import topics_table

app = typer.Typer(help="engram: long-term memory for conversational agents, made of LoRA adapters.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

NsOpt = typer.Option(..., "--namespace", "-n", help="Namespace (user or agent id)")
ApiOpt = typer.Option(None, "--api", envvar="ENGRAM_API_URL", help="URL of a running `engram serve`")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.callback()
def load_settings(ctx: typer.Context) -> None:
    """engram: long-term memory for conversational agents, made of LoRA adapters. Settings come from ENGRAM_*
    variables and .env (README, "Settings")."""
    try:
        ctx.obj = Settings()
    except ValidationError as exc:
        e = exc.errors()[0]
        fail(f"settings: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}")


def settings_of(ctx: typer.Context) -> Settings:
    """The Settings the callback built for this invocation (tests may invoke a command without it)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def api_client(settings: Settings, api: str):
    """A client of a running server, sending ENGRAM_API_KEY (Settings.api_key) when set."""
    from memory_service.client import ApiClient

    key = settings.api_key
    return ApiClient(api, key.get_secret_value() if key else None)


def backend(settings: Settings, api: str | None):
    """The API client when --api is given, else the in-process service (which opens the embedded store)."""
    if api:
        return api_client(settings, api)
    from memory_service.service import MemoryService

    return MemoryService(settings)


def run(ctx: typer.Context, api: str | None, fn):
    try:
        b = backend(settings_of(ctx), api)
        try:
            return fn(b)
        finally:
            b.close()
    except EngramError as exc:
        fail(exc.message)


def fact_table(rows, title: str | None = None) -> Table:
    t = Table(title=title)
    for col in ("id", "topic", "status", "text"):
        t.add_column(col, overflow="fold")
    for f in rows:
        t.add_row(f.id, f.topic, f.status.value, f.text)
    return t


@app.command()
def remember(
    ctx: typer.Context,
    text: list[str] = typer.Argument(..., help="One or more fact statements"),
    namespace: str = NsOpt,
    topic: Optional[str] = typer.Option(None, help="Topic slug; default: nearest topic or a new one"),
    subject: Optional[str] = typer.Option(None), relation: Optional[str] = typer.Option(None),
    object: Optional[str] = typer.Option(None, "--object"),
    as_json: bool = typer.Option(False, "--json"), api: Optional[str] = ApiOpt,
):
    """Write facts to the short-term store (all or none)."""
    try:
        facts = [FactIn(text=t, topic=topic, subject=subject, relation=relation, object=object) for t in text]
    except ValidationError as exc:
        e = exc.errors()[0]
        fail(f"{'.'.join(str(x) for x in e['loc'])} {e.get('input')!r}: {e['msg']}")
    results = run(ctx, api, lambda b: b.write(namespace, facts))
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in results]))
        return
    for r in results:
        extra = f" (supersedes {r.supersedes})" if r.supersedes else ""
        console.print(f"{r.outcome.value:9} {r.id}  topic={r.topic}{extra}")


@app.command()
def recall(ctx: typer.Context, query: str, namespace: str = NsOpt, limit: int = typer.Option(5, min=1, max=100),
           topic: Optional[str] = None, as_json: bool = typer.Option(False, "--json"), api: Optional[str] = ApiOpt):
    """Search a namespace's facts (this heats the facts returned)."""
    hits = run(ctx, api, lambda b: b.recall(namespace, query, limit=limit, topic=topic))
    if as_json:
        console.print_json(json.dumps([h.model_dump(mode="json") for h in hits]))
        return
    t = Table()
    for col in ("score", "heat", "topic", "text", "id"):
        t.add_column(col, overflow="fold")
    for h in hits:
        t.add_row(f"{h.score:.3f}", f"{h.heat:.2f}", h.fact.topic, h.fact.text, h.fact.id)
    console.print(t)


@app.command()
def forget(ctx: typer.Context, fact_id: str, namespace: str = NsOpt, api: Optional[str] = ApiOpt):
    """Delete a fact: it is never recalled again."""
    fact = run(ctx, api, lambda b: b.delete(namespace, fact_id))
    console.print(f"deleted {fact.id}: {fact.text}")


@app.command("get")
def get_fact(ctx: typer.Context, fact_id: str, namespace: str = NsOpt, api: Optional[str] = ApiOpt):
    """Show one fact as JSON."""
    fact = run(ctx, api, lambda b: b.get(namespace, fact_id))
    console.print_json(fact.model_dump_json())


@app.command("list")
def list_facts(ctx: typer.Context, namespace: str = NsOpt, topic: Optional[str] = None,
               status: str = typer.Option("active", help="active, superseded, deleted or all"),
               limit: int = typer.Option(100, min=1, max=1000), api: Optional[str] = ApiOpt):
    """List a namespace's facts."""
    facts, _ = run(ctx, api, lambda b: b.list(namespace, topic=topic, status=None if status == "all" else status,
                                         limit=limit))
    console.print(fact_table(facts))


@app.command()
def topics(ctx: typer.Context, namespace: str = NsOpt, as_json: bool = typer.Option(False, "--json"), api: Optional[str] = ApiOpt):
    """Topics of a namespace with their heat, hot facts and due state."""
    rows = run(ctx, api, lambda b: b.topics(namespace))
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    console.print(topics_table(rows))


@app.command()
def serve(ctx: typer.Context, host: Optional[str] = None, port: Optional[int] = None,
          log_level: str = typer.Option("info")):
    """Run the REST API (it owns the embedded store while it runs)."""
    import uvicorn

    from memory_service.auth import KeyRing, warn_if_open

    from .app import create_app

    settings = settings_of(ctx)
    logging.basicConfig(level=log_level.upper())
    host = host or settings.api_host
    try:
        warn_if_open(host, KeyRing.from_settings(settings.auth))
        uvicorn.run(create_app(settings), host=host, port=port or settings.api_port, log_level=log_level)
    except EngramError as exc:
        fail(exc.message)


@app.command("serve-model")
def serve_model(ctx: typer.Context, host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8090),
                log_level: str = typer.Option("warning")):
    """Serve the base model over the OpenAI chat-completions API (for the eval judge and LLM extraction, offline)."""
    import uvicorn

    from consolidation.model import load_base, model_id, set_threads

    from .model_server import create_model_app

    settings = settings_of(ctx)
    set_threads(settings.torch_threads)
    try:
        base = load_base(settings.base_model, settings.device, settings.model_cache_dir, settings.dtype,
                         settings.pack_weights)
        name = model_id(settings.base_model)
    except EngramError as exc:
        fail(exc.message)
    console.print(f"serving {name} at http://{host}:{port}/v1")
    uvicorn.run(create_model_app(base, name), host=host, port=port, log_level=log_level)


def _celery_env(settings: Settings) -> Settings:
    """Workers reach the same Redis as the service: the URL, or the embedded server's socket."""
    from memory_service.redis_conn import connect_redis

    _, url = connect_redis(settings)
    os.environ["ENGRAM_BROKER_URL"] = url
    return settings


@app.command()
def worker(ctx: typer.Context, concurrency: int = typer.Option(1, help="Training processes (one per core-set; 1 on a small box)"),
           loglevel: str = "info", pool: str = typer.Option("prefork", help="prefork or solo")):
    """Run a consolidation worker (Celery) on the training queue."""
    settings = _celery_env(settings_of(ctx))
    from workers.celery_app import app as celery_app

    q = settings.consolidation.queue
    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", f"--pool={pool}",
                            "-Q", f"{q},{q}-control", "-E"])


@app.command()
def beat(ctx: typer.Context, loglevel: str = "info"):
    """Run the Celery beat that sweeps for due and stale topics (run exactly one)."""
    settings = _celery_env(settings_of(ctx))
    from workers.celery_app import app as celery_app

    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


@app.command()
def consolidate(ctx: typer.Context, namespace: str = NsOpt, topic: str = typer.Option(..., help="Topic slug"),
                wait: bool = typer.Option(False, "--wait", help="Wait for the run, with a progress bar"),
                timeout: float = typer.Option(3600.0, help="Seconds to wait at most"),
                api: Optional[str] = ApiOpt):
    """Consolidate a topic now (every active fact of it) into a new adapter version."""
    if api:
        client = api_client(settings_of(ctx), api)
        try:
            ids = client.consolidate(namespace, topic)
            console.print(f"queued: {', '.join(ids)}")
            states = _wait(lambda tid: client.consolidation(namespace, tid), ids, timeout) if wait else []
        except EngramError as exc:
            fail(exc.message)
    else:
        from memory_service.relay import Consolidations, Relay
        from memory_service.service import MemoryService

        try:
            with MemoryService(settings_of(ctx)) as svc:
                c = Consolidations(svc)
                ids = c.request(namespace, topic, reason="manual")
                console.print(f"queued: {', '.join(ids) or 'nothing (no facts)'}")
                if not wait:
                    return
                states = _wait(lambda tid: c.state(namespace, tid), ids, timeout)
                relay = Relay(c)  # this process owns the store now: apply the results it waited for
                while relay.step(block_ms=200):
                    pass
        except EngramError as exc:
            fail(exc.message)
    for st in states:
        info = st.get("info") or {}
        console.print(f"{st['topic']}: {st['state']} {info.get('status', '')} "
                      f"v{info.get('version') or '-'} {'; '.join(info.get('reasons') or [])}")
    if any(st["state"] != "SUCCESS" or (st.get("info") or {}).get("status") == "rejected" for st in states):
        raise typer.Exit(1)


def _wait(poll, ids: list[str], timeout: float) -> list[dict]:
    """Wait for the tasks with a Rich progress bar per task over its training steps."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from memory_service.relay import TERMINAL, wait_for_tasks

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                  TimeElapsedColumn(), console=err) as bar:
        rows = {t: bar.add_task("queued", total=None, detail="") for t in ids}

        def show(states: list[dict]) -> None:
            for st in states:
                info, row = st.get("info") or {}, rows[st["task_id"]]
                if st["state"] == "PROGRESS":
                    detail = f"epoch {info.get('epoch', '-')} loss {info.get('loss', float('nan')):.3f}" \
                        if "loss" in info else info.get("phase", "")
                    bar.update(row, description=f"{st['topic']} training", total=info.get("total_steps"),
                               completed=info.get("step", 0), detail=detail)
                else:
                    bar.update(row, description=f"{st['topic']} {st['state'].lower()}",
                               **({"detail": ""} if st["state"] in TERMINAL else {}))

        try:
            return wait_for_tasks(poll, lambda: ids, timeout, on_poll=show, interval_s=1.0)
        except TimeoutError as exc:
            fail(f"timed out: {exc}")


@app.command()
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print the data as JSON (one line per refresh)"),
           watch: bool = typer.Option(False, "--watch", help="Refresh until Ctrl-C"),
           interval: float = typer.Option(2.0, min=0.2, help="Seconds between refreshes (--watch)"),
           timeout: float = typer.Option(1.0, min=0.05, help="Seconds to wait for workers to answer")):
    """Queue depth, workers and their consolidations (with progress), failures, hottest topics, adapters."""
    import time

    import redis

    from memory_service.queue import make_celery
    from memory_service.redis_conn import connect_redis
    from memory_service.status import collect
    from .status_view import render

    settings = settings_of(ctx)
    try:
        r, url = connect_redis(settings)
    except EngramError as exc:
        fail(exc.message)
    celery = make_celery(settings, url)  # one connection pool for every refresh

    def snapshot() -> dict:
        return collect(settings, r=r, celery=celery, timeout=timeout)

    def show(data: dict) -> None:
        if as_json and watch:
            print(json.dumps(data), flush=True)  # one line per refresh, for piping
        elif as_json:
            console.print_json(json.dumps(data))
        else:
            console.print(render(data))

    try:
        if not watch or as_json:
            while True:
                show(snapshot())
                if not watch:
                    break
                time.sleep(interval)
        else:
            from rich.live import Live

            with Live(render(snapshot()), console=console, auto_refresh=False) as live:
                while True:
                    time.sleep(interval)
                    live.update(render(snapshot()), refresh=True)
    except KeyboardInterrupt:
        pass
    except redis.RedisError as exc:
        fail(f"redis: {exc}")


keys_app = typer.Typer(help="API keys: each grants namespaces; the server stores only their sha256.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(ctx: typer.Context, namespace: list[str] = typer.Option(..., "--namespace", "-n",
                                                  help="Namespace or pattern it may use ('alice', 'team-*', '*'); repeatable"),
             label: str = typer.Option("", help="A note to recognise it by (who, what for)")):
    """Create a key: printed once here, only its hash is kept (in auth.keys_file)."""
    from memory_service.auth import KeyFile

    path = settings_of(ctx).auth.keys_file
    try:
        key, entry = KeyFile(path).add(namespace, label)
    except EngramError as exc:
        fail(exc.message)
    err.print(f"added key {entry.sha256[:12]} for {', '.join(entry.namespaces)} to {path}; "
              "it is shown only now. Clients send it as `Authorization: Bearer <key>` (CLI: ENGRAM_API_KEY).")
    print(key)  # alone on stdout, so `KEY=$(engram keys add -n alice)` works


@keys_app.command("list")
def keys_list(ctx: typer.Context, ):
    """Keys in the keys file (hash prefix, namespaces, label); keys set in ENGRAM_AUTH__KEYS are listed too."""
    import datetime

    from memory_service.auth import KeyFile

    settings = settings_of(ctx)
    try:
        entries = KeyFile(settings.auth.keys_file).load()
    except EngramError as exc:
        fail(exc.message)
    t = Table()
    for col in ("sha256", "namespaces", "label", "created", "from"):
        t.add_column(col)
    for e in entries:
        created = datetime.datetime.fromtimestamp(e.created_at).isoformat(timespec="seconds") if e.created_at else "-"
        t.add_row(e.sha256[:12], ", ".join(e.namespaces), e.label, created, "keys file")
    for digest, patterns in settings.auth.keys.items():
        t.add_row(digest[:12], ", ".join(patterns), "", "-", "settings")
    console.print(t)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, sha256: str = typer.Argument(..., help="The hash prefix `engram keys list` shows")):
    """Remove a key from the keys file; a running server refuses it from its next request."""
    from memory_service.auth import KeyFile

    try:
        entry = KeyFile(settings_of(ctx).auth.keys_file).revoke(sha256)
    except EngramError as exc:
        fail(exc.message)
    console.print(f"revoked {entry.sha256[:12]} ({', '.join(entry.namespaces)})")


@app.command()
def chat(ctx: typer.Context, namespace: str = NsOpt, mode: Optional[str] = typer.Option(None, help=", ".join(MODES)),
         thread: Optional[str] = typer.Option(None, help="Thread id to continue (kept on disk)")):
    """Talk to the agent: it writes what you state and answers from adapters and/or facts."""
    from agent.graph import build_graph

    from .chat import chat_loop

    settings = settings_of(ctx)
    mode = mode or settings.agent.mode
    if mode not in MODES:
        fail(f"invalid --mode {mode!r}: one of {', '.join(MODES)}")
    try:
        chat_loop(build_graph(settings), namespace, mode, thread, console)
    except EngramError as exc:
        fail(exc.message)


@app.command()
def demo(ctx: typer.Context, namespace: str = typer.Option("demo-user", "--namespace", "-n")):
    """The whole loop: a conversation, hot topics, a worker training adapters, answers from weights."""
    from workers.launch import sigterm_as_exit

    from .demo import run_demo

    try:
        with sigterm_as_exit():  # a killed demo stops its worker too
            run_demo(settings_of(ctx), namespace, console)
    except EngramError as exc:
        fail(exc.message)


@app.command("eval")
def evaluate(ctx: typer.Context, scenarios: list[str] = typer.Argument(..., help="Scenario files or folders (evals/scenarios)"),
             modes: str = typer.Option(",".join(MODES), help="Comma-separated recall modes"),
             out: str = typer.Option("eval-report", help="Folder for report.md, results.json, plots"),
             timeout: float = typer.Option(14400.0, help="Longest wait for one consolidation step, seconds (a "
                                                         "step may train ten topics; a dead worker stops the run "
                                                         "at once)"),
             judge_url: Optional[str] = typer.Option(None, help="OpenAI-compatible endpoint of an LLM judge for "
                                                                "LoCoMo's J score (key: ENGRAM_JUDGE_API_KEY); off"),
             judge_model: str = typer.Option("", help="The judge's model name at --judge-url")):
    """Play scripted dialogues against the live services in each mode and write a report."""
    from pathlib import Path

    from evals.runner import run_eval
    from evals.scenario import ScenarioError
    from workers.launch import sigterm_as_exit

    judge = None
    if judge_url:
        from evals.judge import Judge

        if not judge_url.startswith(("http://", "https://")):
            fail(f"invalid --judge-url {judge_url!r}: an http(s) URL such as http://127.0.0.1:8090/v1")
        judge = Judge(judge_url, judge_model or "default")
    try:
        if judge is not None:
            judge.check()
        with sigterm_as_exit():  # a killed evaluation stops its worker too
            written, failures = run_eval(scenarios, [m.strip() for m in modes.split(",") if m.strip()], Path(out),
                                         settings_of(ctx), console, timeout, judge)
    except (ScenarioError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    except EngramError as exc:
        fail(exc.message)
    if written:
        console.print(f"report: {written['report']}  results: {written['results']}")
    if failures:
        fail(f"{len(failures)} scenario(s) stopped at a failed step (listed in the report)", code=1)


@app.command("import-locomo")
def import_locomo(path: str = typer.Argument(..., help="locomo10.json"),
                  out: str = typer.Argument(..., help="Folder for the scenario files"),
                  categories: str = typer.Option("1,2,3,4", help="QA categories to keep (5 has no answer)"),
                  max_conversations: Optional[int] = typer.Option(None, min=1),
                  source: str = typer.Option("say", help="say: play the turns through the agent; observations: "
                                                         "write the dataset's observation facts through the API"),
                  sample: list[str] = typer.Option([], help="A sample_id to import, e.g. conv-30 (repeatable)")):
    """Turn LoCoMo conversations into scenarios for `engram eval`."""
    from evals.locomo import import_locomo as run_import

    try:
        files = run_import(path, out, tuple(int(c) for c in categories.split(",")), max_conversations, source,
                           tuple(sample))
    except (OSError, ValueError, KeyError) as exc:
        fail(f"{path}: {exc}")
    console.print(f"{len(files)} scenario(s) in {out}")


@app.command("export")
def export_adapters(ctx: typer.Context, namespace: str = NsOpt,
                    out: str = typer.Option(..., "--out", help="Folder for one plain peft folder per topic"),
                    topic: list[str] = typer.Option([], help="Only this topic (repeatable); default: every topic"),
                    server: str = typer.Option("vllm", "--for", help="vllm: the peft folders as published; lorax: "
                                               "every layer padded with zero LoRA weights (LoRAX skips the rest)"),
                    layers: int = typer.Option(0, help="The base model's decoder layers, for --for lorax "
                                               "(default: read from the base model's config)")):
    """Copy the namespace's current adapters (hash-checked) into peft folders that vLLM (as published) or LoRAX
    (--for lorax) loads, and print the command lines that serve them."""
    import shutil
    from pathlib import Path

    from consolidation.model import converted_dir, packaged_gguf
    from memory_service.errors import EngramError
    from memory_service.registry import open_registry

    from .export import base_layers, to_lorax

    if server not in ("vllm", "lorax"):
        fail(f"--for {server!r}: one of vllm, lorax")
    s = settings_of(ctx)
    base = str(converted_dir(s.model_cache_dir, packaged_gguf())) if s.base_model == "packaged" else s.base_model
    if server == "lorax" and not layers:
        try:
            layers = base_layers(base)
        except OSError as exc:
            fail(f"cannot read the base model's layer count from {base} ({exc}); load it once "
                 "(e.g. engram chat) or pass --layers")
    try:
        reg = open_registry(s)
        topics = topic or reg.topics(namespace)
        modules, ranks = [], []
        for t in topics:
            ref = reg.current(namespace, t)
            if ref is None:
                fail(f"topic {t!r} of namespace {namespace!r} has no current adapter")
            manifest = reg.verify(ref)
            target = Path(out) / t
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for name in manifest["files"]:
                shutil.copy2(ref.path / name, target / name)
            if server == "lorax":
                try:
                    to_lorax(target, layers)
                except ValueError as exc:
                    fail(f"topic {t!r}: {exc}")
            modules.append(f"{namespace}.{t}={target.resolve()}")
            ranks.append(int(manifest.get("recipe", {}).get("rank", 16)))
    except EngramError as exc:
        fail(str(exc))
    if not modules:
        fail(f"namespace {namespace!r} has no published adapters")
    if server == "lorax":
        console.print(f"{len(modules)} adapter(s) in {out}, padded to {layers} layers; serve them with LoRAX on the "
                      "base they were trained on, one adapter per request:")
        console.print(f"lorax-launcher --model-id {base}", soft_wrap=True)
        path = modules[0].split("=", 1)[1]
        console.print("curl localhost:8080/generate -H 'Content-Type: application/json' -d '{\"inputs\": \"...\", "
                      f"\"parameters\": {{\"adapter_id\": \"{path}\", \"adapter_source\": \"local\"}}}}'",
                      soft_wrap=True)
        return
    console.print(f"{len(modules)} adapter(s) in {out}; serve them with vLLM on the base they were trained on:")
    console.print(f"vllm serve {base} --enable-lora --max-lora-rank {max(ranks)} --lora-modules "
                  + " ".join(modules), soft_wrap=True)


def main() -> None:  # python -m engram.cli
    app()


if __name__ == "__main__":
    sys.exit(main())
