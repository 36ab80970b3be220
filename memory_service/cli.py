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

from .errors import EngramError
from .schemas import FactIn
from .settings import Settings

app = typer.Typer(help="engram: long-term memory for conversational agents, made of LoRA adapters.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

NsOpt = typer.Option(..., "--namespace", "-n", help="Namespace (user or agent id)")
ApiOpt = typer.Option(None, "--api", envvar="ENGRAM_API_URL", help="URL of a running `engram serve`")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def backend(api: str | None):
    """The API client when --api is given, else the in-process service (which opens the embedded store)."""
    if api:
        from .client import ApiClient

        return ApiClient(api, os.environ.get("ENGRAM_API_KEY"))
    from .service import MemoryService

    return MemoryService(Settings())


def run(api: str | None, fn):
    try:
        b = backend(api)
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
    results = run(api, lambda b: b.write(namespace, facts))
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in results]))
        return
    for r in results:
        extra = f" (supersedes {r.supersedes})" if r.supersedes else ""
        console.print(f"{r.outcome.value:9} {r.id}  topic={r.topic}{extra}")


@app.command()
def recall(query: str, namespace: str = NsOpt, limit: int = typer.Option(5, min=1, max=100),
           topic: Optional[str] = None, as_json: bool = typer.Option(False, "--json"), api: Optional[str] = ApiOpt):
    """Search a namespace's facts (this heats the facts returned)."""
    hits = run(api, lambda b: b.recall(namespace, query, limit=limit, topic=topic))
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
def forget(fact_id: str, namespace: str = NsOpt, api: Optional[str] = ApiOpt):
    """Delete a fact: it is never recalled again."""
    fact = run(api, lambda b: b.delete(namespace, fact_id))
    console.print(f"deleted {fact.id}: {fact.text}")


@app.command("get")
def get_fact(fact_id: str, namespace: str = NsOpt, api: Optional[str] = ApiOpt):
    """Show one fact as JSON."""
    fact = run(api, lambda b: b.get(namespace, fact_id))
    console.print_json(fact.model_dump_json())


@app.command("list")
def list_facts(namespace: str = NsOpt, topic: Optional[str] = None,
               status: str = typer.Option("active", help="active, superseded, deleted or all"),
               limit: int = typer.Option(100, min=1, max=1000), api: Optional[str] = ApiOpt):
    """List a namespace's facts."""
    facts, _ = run(api, lambda b: b.list(namespace, topic=topic, status=None if status == "all" else status,
                                         limit=limit))
    console.print(fact_table(facts))


@app.command()
def topics(namespace: str = NsOpt, as_json: bool = typer.Option(False, "--json"), api: Optional[str] = ApiOpt):
    """Topics of a namespace with their heat, hot facts and due state."""
    rows = run(api, lambda b: b.topics(namespace))
    if as_json:
        console.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    console.print(topics_table(rows))


def topics_table(rows) -> Table:
    t = Table()
    for col in ("topic", "facts", "unconsolidated", "hot", "heat", "due", "stale"):
        t.add_column(col)
    for r in sorted(rows, key=lambda r: -r.heat):
        t.add_row(r.topic, str(r.facts), str(r.unconsolidated), str(r.hot), f"{r.heat:.2f}",
                  "[bold green]yes[/]" if r.due else "no", "yes" if r.stale else "no")
    return t


@app.command()
def serve(host: Optional[str] = None, port: Optional[int] = None,
          log_level: str = typer.Option("info")):
    """Run the REST API (it owns the embedded store while it runs)."""
    import uvicorn

    from .api import create_app

    settings = Settings()
    logging.basicConfig(level=log_level.upper())
    try:
        uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                    log_level=log_level)
    except EngramError as exc:
        fail(exc.message)


def _celery_env() -> Settings:
    """Workers reach the same Redis as the service: the URL, or the embedded server's socket."""
    from .redis_conn import connect_redis

    settings = Settings()
    _, url = connect_redis(settings)
    os.environ["ENGRAM_BROKER_URL"] = url
    return settings


@app.command()
def worker(concurrency: int = typer.Option(1, help="Training processes (one per core-set; 1 on a small box)"),
           loglevel: str = "info", pool: str = typer.Option("prefork", help="prefork or solo")):
    """Run a consolidation worker (Celery) on the training queue."""
    settings = _celery_env()
    from workers.celery_app import app as celery_app

    q = settings.consolidation.queue
    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", f"--pool={pool}",
                            "-Q", f"{q},{q}-control", "-E"])


@app.command()
def beat(loglevel: str = "info"):
    """Run the Celery beat that sweeps for due and stale topics (run exactly one)."""
    settings = _celery_env()
    from workers.celery_app import app as celery_app

    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


@app.command()
def consolidate(namespace: str = NsOpt, topic: str = typer.Option(..., help="Topic slug"),
                wait: bool = typer.Option(False, "--wait", help="Wait for the run, with a progress bar"),
                timeout: float = typer.Option(3600.0, help="Seconds to wait at most"),
                api: Optional[str] = ApiOpt):
    """Consolidate a topic now (every active fact of it) into a new adapter version."""
    if api:
        from .client import ApiClient

        client = ApiClient(api, os.environ.get("ENGRAM_API_KEY"))
        try:
            ids = client.consolidate(namespace, topic)
            console.print(f"queued: {', '.join(ids)}")
            states = [_wait(lambda tid=t: client.consolidation(namespace, tid), timeout) for t in ids] if wait else []
        except EngramError as exc:
            fail(exc.message)
    else:
        from .relay import Consolidations, Relay
        from .service import MemoryService

        try:
            with MemoryService(Settings()) as svc:
                c = Consolidations(svc)
                ids = c.request(namespace, topic, reason="manual")
                console.print(f"queued: {', '.join(ids) or 'nothing (no facts)'}")
                if not wait:
                    return
                states = [_wait(lambda tid=t: c.state(namespace, tid), timeout) for t in ids]
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


def _wait(poll, timeout: float) -> dict:
    """Poll a task's state with a Rich progress bar over training steps."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    deadline = time.time() + timeout
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("queued", total=None, detail="")
        while True:
            st = poll()
            info = st.get("info") or {}
            if st["state"] == "PROGRESS":
                detail = f"epoch {info.get('epoch', '-')} loss {info.get('loss', float('nan')):.3f}" \
                    if "loss" in info else info.get("phase", "")
                bar.update(task, description=f"{st['topic']} training", total=info.get("total_steps"),
                           completed=info.get("step", 0), detail=detail)
            elif st["state"] in ("SUCCESS", "FAILURE", "REVOKED", "COALESCED"):
                bar.update(task, description=f"{st['topic']} {st['state'].lower()}", detail="")
                return st
            else:
                bar.update(task, description=f"{st['topic']} {st['state'].lower()}")
            if time.time() > deadline:
                fail(f"timed out after {timeout:.0f} s waiting for {st['task_id']}")
            time.sleep(1.0)


@app.command()
def chat(namespace: str = NsOpt, mode: Optional[str] = typer.Option(None, help="none, rag, lora, hybrid or full"),
         thread: Optional[str] = typer.Option(None, help="Thread id to continue (kept on disk)")):
    """Talk to the agent: it writes what you state and answers from adapters and/or facts."""
    from agent.chat import chat_loop
    from agent.graph import build_graph
    from agent.state import MODES

    settings = Settings()
    mode = mode or settings.agent.mode
    if mode not in MODES:
        fail(f"invalid --mode {mode!r}: one of {', '.join(MODES)}")
    try:
        chat_loop(build_graph(settings), namespace, mode, thread, console)
    except EngramError as exc:
        fail(exc.message)


@app.command()
def demo(namespace: str = typer.Option("demo-user", "--namespace", "-n")):
    """The whole loop: a conversation, hot topics, a worker training adapters, answers from weights."""
    from agent.demo import run_demo

    try:
        run_demo(Settings(), namespace, console)
    except EngramError as exc:
        fail(exc.message)


def main() -> None:  # python -m memory_service.cli
    app()


if __name__ == "__main__":
    sys.exit(main())
