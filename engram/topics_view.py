"""Rich rendering of a namespace's topics, shared by `engram topics` and `engram demo` (the CLI runs the demo,
so the table lives below both)."""

from __future__ import annotations

from rich.table import Table


def topics_table(rows) -> Table:
    """One row per topic, hottest first: its facts, heat and whether it is due or stale."""
    t = Table()
    for col in ("topic", "facts", "unconsolidated", "hot", "heat", "due", "stale"):
        t.add_column(col)
    for r in sorted(rows, key=lambda r: -r.heat):
        t.add_row(r.topic, str(r.facts), str(r.unconsolidated), str(r.hot), f"{r.heat:.2f}",
                  "[bold green]yes[/]" if r.due else "no", "yes" if r.stale else "no")
    return t
