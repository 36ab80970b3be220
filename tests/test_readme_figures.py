"""README's figures and their files in step: every figure in a benchmark's row is a value of the result file the row
cites (bench/results), as written there or in the unit the row says it in ("3.3 s" for 3300 ms, "97.5%" for 0.975),
so a rerun that moves a figure fails here until the README says the new one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench/results"
# a number in a row that is not a measured figure: inside `code` (commands, options), a target, a size the
# command was given
NOT_FIGURES = re.compile(r"`[^`]*`|\bk=\d+|target\s*(?:>=|≥|<=|≤)\s*[\d.]+|\(target [^)]*\)")
FIGURE = re.compile(r"(?<![\w.\-/])(\d[\d,]*(?:\.\d+)?)(\s?%|\s?s\b|\s?ms\b)?")


def rows() -> list[tuple[str, str]]:
    """(command cell, result cell) of README's table rows that run a benchmark or an evaluation."""
    out = []
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith(("| `python -m bench.", "| `engram eval")):
            out.append((cells[0], cells[-1]))
    return out


def cited(row: str) -> list[Path]:
    names = set(re.findall(r"(?<![\w.])([a-z0-9-]+\.json)\b", row)) - {"results.json", "consolidations.json"}
    files = [p for n in sorted(names) for p in [next(RESULTS.rglob(n), None)] if p is not None]
    files += [RESULTS / d / "results.json" for d in sorted(set(re.findall(r"\b(eval-[\w-]+)\b", row)))
              if (RESULTS / d / "results.json").exists()]
    return files


def values(obj, out: list[float]) -> list[float]:
    if isinstance(obj, bool):
        return out
    if isinstance(obj, (int, float)):
        out.append(float(obj))
    elif isinstance(obj, dict):
        for v in obj.values():
            values(v, out)
    elif isinstance(obj, list):
        for v in obj:
            values(v, out)
    elif isinstance(obj, str):
        out += [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?", obj)]
    return out


def found(figure: str, unit: str | None, known: list[float]) -> bool:
    """Whether `figure` (as written, with its unit) is one of `known`, to the precision it is written with."""
    x = float(figure.replace(",", ""))
    tolerance = 0.5 * 10 ** -(len(figure.split(".")[1]) if "." in figure else 0) + 1e-9
    unit = (unit or "").strip()
    scales = {"%": (1, 100), "s": (1, 1000), "ms": (1,)}.get(unit, (1,))
    if unit == "%":
        return any(abs(v * s - x) <= tolerance * max(1, s / 100) for v in known for s in scales)
    return any(abs(v * 1 - x) <= tolerance or (unit == "s" and abs(v / 1000 - x) <= tolerance) for v in known)


ROWS = rows()


def test_the_rows_are_read():
    assert len(ROWS) >= 15 and all(c.startswith("`") for c, _ in ROWS)


@pytest.mark.parametrize("command, result", ROWS, ids=[c[:60] for c, _ in ROWS])
def test_every_figure_in_a_row_is_in_the_file_it_cites(command, result):
    text = NOT_FIGURES.sub(" ", result)
    figures = [(n, u) for n, u in FIGURE.findall(text)]
    given = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", command)}  # sizes the command was given
    figures = [(n, u) for n, u in figures if float(n.replace(",", "")) not in given]
    if not figures:
        return
    files = cited(result) or cited(command)
    assert files, f"figures {[n for n, _ in figures]} with no result file cited"
    known: list[float] = []
    for f in files:
        values(json.loads(f.read_text()), known)
    missing = [n + (u or "") for n, u in figures if not found(n, u, known)]
    assert not missing, f"not in {[f.name for f in files]}: {missing}"
