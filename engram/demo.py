"""`engram demo`: the whole loop on the embedded default, in one process tree.

A scripted conversation states 20 fictional facts about the user in three topics; questions heat them until
the topics are due; a real Celery worker (started here) trains and publishes one adapter per topic; then every
question is asked again in each mode and a table shows the answers and which adapter answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from consolidation.synth import answer_ok
from memory_service.registry import Registry
from memory_service.relay import Consolidations, Relay
from memory_service.service import MemoryService
from memory_service.settings import Settings

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
MODES = ("none", "rag", "lora", "hybrid")


def start_worker(settings: Settings, redis_url: str, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({"ENGRAM_DATA_DIR": str(settings.data_dir), "ENGRAM_BROKER_URL": redis_url,
                "ENGRAM_REDIS__KEY_PREFIX": settings.redis.key_prefix,
                "ENGRAM_CONSOLIDATION__QUEUE": settings.consolidation.queue, "HF_HUB_OFFLINE": "1"})
    q = settings.consolidation.queue
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", f"{q},{q}-control", "-c", "1",
         "-l", "info", "--without-gossip", "--without-mingle", "-n", f"demo-{os.getpid()}@%h"],
        env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def run_demo(settings: Settings, namespace: str, console: Console, timeout_s: float = 480.0) -> None:
    from agent.graph import build_graph

    # small topics: due with three hot facts each
    settings = settings.model_copy(update={"heat": settings.heat.model_copy(update={"min_facts": 3})})
    console.rule("[bold]engram demo")
    console.print(f"data dir: {settings.data_dir}")
    t0 = time.time()
    svc = MemoryService(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    worker = start_worker(settings, svc.redis_url, settings.data_dir / "demo-worker.log")
    relay = Relay(Consolidations(svc), block_ms=500).start()
    try:
        console.print(f"redis: {svc.redis_url}  store: {type(svc.store).__name__}  "
                      f"worker log: {settings.data_dir / 'demo-worker.log'}")
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
        from .cli import topics_table

        console.print(topics_table(svc.topics(namespace)))
        console.print("[bold]3. The worker consolidates due topics into adapters[/]")
        registry = Registry(settings.adapters_dir)
        topics = sorted({t.topic for t in svc.topics(namespace)})
        consolidations = Consolidations(svc)
        tasks_key = f"{settings.redis.key_prefix}:tasks:{namespace}"
        with Progress(console=console) as bar:
            task = bar.add_task("consolidations finished", total=len(topics))
            while time.time() - t0 < timeout_s:
                ids = [t.decode() for t in svc.heat.r.hkeys(tasks_key)]
                finished = [i for i in ids if consolidations.state(namespace, i)["state"] in ("SUCCESS", "FAILURE")]
                bar.update(task, completed=len(finished), total=max(len(topics), len(ids)))
                if len(ids) >= len(topics) and len(finished) == len(ids):
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited; see {settings.data_dir / 'demo-worker.log'}")
                time.sleep(2.0)
        for t in topics:
            ref = registry.current(namespace, t)
            gate = ref.manifest()["gate"] if ref else None
            console.print(f"  {t}: " + (f"v{ref.version} taught {gate['taught']:.2f} paraphrase "
                                       f"{gate['paraphrase']:.2f}" if ref else "not published (see worker log)"))
        # Step 4 recalls heat the facts again; new consolidations now would only compete for the CPU.
        relay.stop()
        graph.engram_context.max_new_tokens = 16
        console.print("[bold]4. The same questions, per mode[/] (lora: no facts in the prompt)")
        table = Table()
        for col in ("question", "expected", *MODES, "adapter"):
            table.add_column(col, overflow="fold")
        right = {m: 0 for m in MODES}
        rows = [(q, e) for _, q, e in SCRIPT] + [JOB]
        for question, expected in rows:
            answers, adapter = [], ""
            for mode in MODES:
                out = ask(question, mode)
                ok = answer_ok(out["answer"], expected)
                right[mode] += ok
                answers.append(("[green]" if ok else "[red]") + out["answer"][:40] + "[/]")
                if mode == "lora":
                    adapter = ", ".join(f"{r['topic']} v{r['version']}" for r in out.get("routes", [])) or "-"
            table.add_row(question, expected, *answers, adapter)
        console.print(table)
        console.print("correct: " + "  ".join(f"{m} {right[m]}/{len(rows)}" for m in MODES) +
                      f"   ({time.time() - t0:.0f} s)")
    finally:
        relay.stop()
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        svc.close()
