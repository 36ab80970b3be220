"""`engram demo`: the whole loop on the embedded default, in one process tree.

A scripted conversation states 20 fictional facts about the user in three topics; questions heat them until
the topics are due; a real Celery worker (started here) trains and publishes one adapter per topic; then every
question is asked again in each mode: a table (80 columns) ticks each mode's answers, a line per mode sums them
up, and the answers in full go to a file it names.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from consolidation.synth import answer_ok
from memory_service.registry import open_registry
from memory_service.relay import TERMINAL, Consolidations, Relay, ended, wait_for_tasks
from memory_service.service import MemoryService
from memory_service.settings import Settings
from workers.launch import start_worker, stop_worker

from .topics_view import topics_table

# (statement, question, expected) — invented, so the base model cannot know them
SCRIPT: list[tuple[str, str, str]] = [
    ("My sister is Brielle.", "Who is my sister?", "Brielle"),
    ("My brother is Tobiah.", "Who is my brother?", "Tobiah"),
    ("My mother is Ilvana.", "Who is my mother?", "Ilvana"),
    ("My father is Costel.", "Who is my father?", "Costel"),
    ("My son is called Emrik.", "Who is my son?", "Emrik"),
    ("My daughter is called Saelin.", "Who is my daughter?", "Saelin"),
    ("My dog is called Pimento.", "Who is my dog?", "Pimento"),
    ("My cat is called Quibble.", "Who is my cat?", "Quibble"),
    ("I work at Quillfeather Labs as a tide-gauge engineer.", "Where do I work?", "Quillfeather Labs"),
    ("My manager is Oskar Lindqvist.", "Who is my manager?", "Oskar Lindqvist"),
    ("My boss is Henrike Vass.", "Who is my boss?", "Henrike Vass"),
    ("I moved to Porvoo.", "Where do I live?", "Porvoo"),
    ("I drive a green Tatra.", "What car do I drive?", "green Tatra"),
    ("I play the bassoon.", "Which instrument do I play?", "bassoon"),
    ("My favourite food is plum dumplings.", "What is my favourite food?", "plum dumplings"),
    ("My favourite drink is sea-buckthorn juice.", "What is my favourite drink?", "sea-buckthorn juice"),
    ("My favourite book is The Salt Harbour.", "What is my favourite book?", "The Salt Harbour"),
    ("My favourite colour is ochre.", "What is my favourite colour?", "ochre"),
    ("My favourite season is late autumn.", "What is my favourite season?", "late autumn"),
    ("My name is Tamsin Oduya.", "What is my name?", "Tamsin Oduya"),
]
JOB = ("What is my job?", "tide-gauge engineer")
MODES = ("none", "rag", "lora", "hybrid")  # full (every fact in the prompt) is the evaluations' baseline


@dataclass
class Row:
    question: str
    expected: str
    answers: dict[str, str]  # mode -> answer
    correct: dict[str, bool]  # mode -> answer_ok
    adapter: str  # what lora routed to


def results_table(rows: list[Row], modes=MODES) -> Table:
    """One row per question, a tick or a cross per mode: fits an 80-column terminal (answers go to a file)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    # widths: 8 columns with 2 spaces between them, 4 mode names (17), the rest within 80 columns
    table.add_column("question", overflow="ellipsis", no_wrap=True, max_width=20)
    table.add_column("expected", overflow="ellipsis", no_wrap=True, max_width=13)
    for m in modes:
        table.add_column(m, justify="center", no_wrap=True, min_width=len(m))
    table.add_column("adapter", overflow="ellipsis", no_wrap=True, max_width=12)
    for r in rows:
        table.add_row(r.question, r.expected, *("[green]✓[/]" if r.correct[m] else "[red]✗[/]" for m in modes),
                      r.adapter)
    return table


def summary_lines(rows: list[Row], modes=MODES) -> list[str]:
    """One line per mode: how many answers contained the expected value."""
    n = len(rows)
    return [f"{m:<7} {sum(r.correct[m] for r in rows):>3}/{n} correct" for m in modes]


def write_answers(path: Path, rows: list[Row], modes=MODES) -> None:
    """Every answer in full, per question and mode (the table shows only ticks)."""
    lines = ["# engram demo: answers per mode", ""]
    for r in rows:
        lines += [f"## {r.question}", f"expected: {r.expected}; lora routed to: {r.adapter}", ""]
        lines += [f"- {m} {'✓' if r.correct[m] else '✗'}: {r.answers[m]}" for m in modes] + [""]
    path.write_text("\n".join(lines))


def run_demo(settings: Settings, namespace: str, console: Console, timeout_s: float = 480.0) -> None:
    from agent.graph import build_graph

    # small topics: due with three hot facts each
    settings = settings.model_copy(update={"heat": settings.heat.model_copy(update={"min_facts": 3})})
    console.rule("[bold]engram demo")
    console.print(f"data dir: {settings.data_dir}")
    t0 = time.time()
    svc = MemoryService(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "demo-worker.log"
    worker = start_worker(settings, log_path, f"demo-{os.getpid()}@%h", broker_url=svc.redis_url)
    relay = Relay(Consolidations(svc), block_ms=500).start()
    try:
        console.print(f"redis: {svc.redis_url}  store: {type(svc.store).__name__}  worker log: {log_path}")
        graph = build_graph(settings, svc)
        config = {"configurable": {"thread_id": f"demo-{int(t0)}"}}

        def ask(message: str, mode: str) -> dict:
            return graph.invoke({"namespace": namespace, "message": message, "mode": mode}, config)

        console.print("[bold]1. The user talks[/]")
        for statement, _, _ in SCRIPT:
            out = ask(statement, "hybrid")
            console.print(f"  you: {statement}\n  [dim]{out['answer']}[/]")
        console.print("[bold]2. Questions heat the facts (rag mode)[/]")
        for _ in range(2):
            for _, question, _ in SCRIPT:
                svc.recall(namespace, question, limit=3)  # what the agent's recall node does each turn
        console.print(topics_table(svc.topics(namespace)))
        console.print("[bold]3. The worker consolidates due topics into adapters[/]")
        registry = open_registry(settings)
        topics = sorted({t.topic for t in svc.topics(namespace)})
        consolidations = Consolidations(svc)
        with Progress(console=console) as bar:
            task = bar.add_task("consolidations finished", total=len(topics))

            def show(states: list[dict]) -> None:
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited; see {log_path}")
                bar.update(task, completed=sum(s["state"] in TERMINAL for s in states),
                           total=max(len(topics), len(states)))

            try:
                wait_for_tasks(lambda t: consolidations.state(namespace, t),
                               lambda: consolidations.task_ids(namespace), timeout_s - (time.time() - t0),
                               done=lambda st: len(st) >= len(topics) and ended(st), on_poll=show, interval_s=2.0)
            except TimeoutError as exc:
                console.print(f"[yellow]{exc}[/]")
        for t in topics:
            ref = registry.current(namespace, t)
            gate = ref.manifest()["gate"] if ref else None
            console.print(f"  {t}: " + (f"v{ref.version} taught {gate['taught']:.2f} validation "
                                       f"{gate['validation']:.2f}" if ref else "not published (see worker log)"))
        # Step 4 recalls heat the facts again; new consolidations now would only compete for the CPU.
        relay.stop()
        graph.engram_context.max_new_tokens = 16
        console.print("[bold]4. The same questions, per mode[/] (lora: no facts in the prompt)")
        rows = []
        asked = [(q, e) for _, q, e in SCRIPT] + [JOB]
        for question, expected in asked:
            outs = {mode: ask(question, mode) for mode in MODES}
            others = [e for _, e in asked if e != expected]  # naming another fact's value is a wrong answer
            rows.append(Row(question, expected, {m: o["answer"] for m, o in outs.items()},
                            {m: answer_ok(o["answer"], expected, others) for m, o in outs.items()},
                            ", ".join(f"{r['topic']} v{r['version']}" for r in outs["lora"].get("routes", []))
                            or "-"))
        answers_path = settings.data_dir / "demo-answers.md"
        write_answers(answers_path, rows)
        console.print(results_table(rows))
        for line in summary_lines(rows):
            console.print(line)
        console.print(f"answers in full: {answers_path}   ({time.time() - t0:.0f} s)")
    finally:
        relay.stop()
        stop_worker(worker, timeout=20)
        svc.close()
