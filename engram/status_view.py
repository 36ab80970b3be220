"""Rich rendering of `status.collect()` for `engram status` (the data stays plain for --json)."""

from __future__ import annotations

import time

from rich.console import Group
from rich.table import Table
from rich.text import Text


def _ago(ts: float | None, now: float) -> str:
    if not ts:
        return "-"
    s = max(0, int(now - ts))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _progress(p: dict) -> str:
    if not p:
        return "-"
    parts = [p.get("phase", "")]
    if "epoch" in p:
        parts.append(f"epoch {p['epoch']}")
    if "step" in p:
        parts.append(f"step {p['step']}/{p.get('total_steps') or '?'}")
    if "loss" in p:
        parts.append(f"loss {p['loss']:.3f}")
    return " ".join(x for x in parts if x)


def _table(title: str, columns: list[str], rows: list[list[str]], empty: str) -> Table | Text:
    if not rows:
        return Text(f"{title}: {empty}", style="dim")
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*row)
    return t


def render(data: dict) -> Group:
    now = data.get("collected_at") or time.time()
    c = data["consolidations"]
    mean = f"{c['training_seconds'] / c['training_runs']:.1f} s" if c["training_runs"] else "-"
    head = Text.from_markup(
        f"[bold]{len(data['workers'])} workers[/]  queue [bold]{data['queue']['name']}[/]: "
        f"{data['queue']['depth']} waiting, {len(data['active'])} active, {len(data['reserved'])} reserved\n"
        f"consolidations: {c['started']} started, [green]{c['succeeded']} succeeded[/], "
        f"[red]{c['failed']} failed[/]; mean training {mean}")
    workers = _table("workers", ["worker", "queues", "active", "reserved"],
                     [[w["name"], ", ".join(q for q in w.get("queues", []) if not q.endswith("-control")) or "-",
                       str(w["active"]), str(w["reserved"])] for w in data["workers"]],
                     "none answered (start one with `engram worker`)")
    active = _table("active", ["worker", "namespace/topic", "state", "progress", "running"],
                    [[t["worker"], f"{t['namespace']}/{t['topic']}", t.get("state", "-"),
                      _progress(t.get("progress") or {}), _ago(t.get("started_at"), now)] for t in data["active"]],
                    "none")
    reserved = _table("reserved", ["worker", "namespace/topic", "reason", "id"],
                      [[t["worker"], f"{t['namespace']}/{t['topic']}", t.get("reason") or "-", t["id"]]
                       for t in data["reserved"]], "none")
    failures = _table("recent failures", ["when", "namespace/topic", "status", "reasons"],
                      [[_ago(f["at"], now) + " ago", f"{f['namespace']}/{f['topic']}", f["status"] or "-",
                        "; ".join(f["reasons"])[:200]] for f in data["failures"]], "none")
    topics = _table("topics by heat", ["namespace", "topic", "heat", "hot", "unconsolidated", "due", "stale"],
                    [[t["namespace"], t["topic"], f"{t['heat']:.2f}", str(t["hot"]), str(t["unconsolidated"]),
                      "[bold green]yes[/]" if t["due"] else "no", "yes" if t["stale"] else "no"]
                     for t in data["topics"]], "no heat recorded yet")
    adapters = _table(f"adapters in {data.get('registry', '?')}", ["namespace", "topics", "versions"],
                      [[ns, str(a["topics"]), str(a["versions"])] for ns, a in sorted(data["adapters"].items())],
                      "none published yet")
    return Group(head, workers, active, reserved, failures, topics, adapters)
