"""`engram chat`: an interactive conversation that shows which adapters and facts answered each turn."""

from __future__ import annotations

import logging
import uuid

from rich.console import Console
from rich.table import Table

from memory_service.settings import MODES

log = logging.getLogger(__name__)


def describe(out: dict) -> Table:
    t = Table(show_header=False, box=None, padding=(0, 1))
    t.add_row("[dim]mode[/]", out.get("mode", ""))
    if out.get("written"):
        t.add_row("[dim]wrote[/]", "; ".join(f"{w['text']} ({w['outcome']}, topic {w['topic']})"
                                              for w in out["written"]))
    if out.get("routes"):
        t.add_row("[dim]adapters[/]", ", ".join(f"{r['topic']} v{r['version']} ({r['score']:.2f})"
                                                 for r in out["routes"]) + (f"  [{out.get('adapter')}]"
                                                                            if len(out["routes"]) > 1 else ""))
    if out.get("asked_as"):
        t.add_row("[dim]asked as[/]", out["asked_as"])
    if out.get("source"):
        t.add_row("[dim]answered by[/]", out["source"])
    if out.get("context"):
        t.add_row("[dim]facts[/]", "\n".join(out["context"][:5]) + ("\n..." if len(out["context"]) > 5 else ""))
    return t


def chat_loop(graph, namespace: str, mode: str, thread_id: str | None, console: Console) -> None:
    thread_id = thread_id or uuid.uuid4().hex[:12]
    console.print(f"[bold]engram chat[/] namespace={namespace} thread={thread_id} mode={mode}. "
                  f"Commands: /mode {'|'.join(MODES)}, /quit")
    config = {"configurable": {"thread_id": thread_id}}
    while True:
        try:
            message = console.input("[bold cyan]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not message:
            continue
        if message in ("/quit", "/exit"):
            return
        if message.startswith("/mode"):
            new = message.split(maxsplit=1)[1:] or [""]
            if new[0] in MODES:
                mode = new[0]
                console.print(f"mode: {mode}")
            else:
                console.print(f"[red]modes: {', '.join(MODES)}[/]")
            continue
        try:
            out = graph.invoke({"namespace": namespace, "message": message, "mode": mode}, config)
        except Exception as exc:  # one turn's failure (a bad input, a store gone away) does not end the chat
            log.debug("chat turn failed", exc_info=True)
            console.print(f"[red]that turn failed: {getattr(exc, 'message', None) or exc}[/]")
            continue
        console.print(f"[bold green]engram>[/] {out['answer']}")
        console.print(describe({**out, "mode": mode}))
