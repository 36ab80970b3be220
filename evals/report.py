"""The written report of an evaluation run: results.json (every probe and the summary), report.md (tables and
target checks) and PNG plots. Re-render from a saved run with `python -m evals.report results.json OUT_DIR`."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict
from pathlib import Path

from .metrics import ALL, MODE_ORDER, Check, LengthPoint, ProbeResult, Summary, TagSummary, summarize
from .scenario import TAGS
from .locomo_f1 import CATEGORIES
from .scoring import LEAK_TAGS

# --- markdown (pure) -------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def _scenario_order(names: set[str]) -> list[str]:
    return sorted(names, key=lambda n: (n != ALL, n))  # the pooled table first


def plot_name(kind: str, scenario: str) -> str:
    """A file name for a scenario's plot; names from a results file are not trusted to be path-safe."""
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_.-]', '_', scenario)}.png"


def _checks_table(checks: list[Check]) -> list[str]:
    mark = lambda c: ("✓" if c.passed else "✗") if c.informative else "n/i"  # noqa: E731
    rows = [[c.scenario, c.name, _pct(c.value), _pct(c.target), mark(c), c.detail] for c in checks]
    return _table(["scenario", "check", "value", "target", "", "detail"], rows)


def render_markdown(summary: Summary, title: str = "engram evaluation", plots: bool = True) -> str:
    """report.md: the target checks, then per scenario (pooled ALL first) mode × tag accuracy and per-mode
    latency, prompt tokens and routing accuracy."""
    informative = [c for c in summary.checks if c.informative]
    passed = sum(c.passed for c in informative)
    out = [f"# {title}", "", f"Target checks: {passed} of {len(informative)} passed"
           f" ({len(summary.checks) - len(informative)} more not informative: they cannot fail, marked n/i).", ""]
    if summary.checks:
        out += _checks_table(summary.checks) + [""]
    out += ["Accuracy is the share of probes answered right. For deleted and other-namespace probes the number is "
            "the answered rate (the forbidden answer was said), which must be 0%. Recall pools taught, paraphrase "
            "and updated probes. Routing: top-1 routed topic = the probe's topic (lora and hybrid only). Weights as "
            "asked: the share of recall probes an adapter answered right when asked the question as worded, no notes "
            "in the prompt (what the weights hold); right by source: which reader gave each right answer (lookup: "
            "the stored answer of the nearest question the notes answer, no model; weights-taught: an adapter asked "
            "the nearest question it was taught; reading: the model reading notes; base: the model alone).", ""]
    if plots and summary.by_length:
        out += [f"![recall accuracy by dialogue length]({plot_name('length', ALL)})", ""]
    for scenario in _scenario_order({s.scenario for s in summary.tags}):
        tags = [s for s in summary.tags if s.scenario == scenario]
        present = [t for t in TAGS if any(s.tag == t for s in tags)]
        present += sorted({s.tag for s in tags} - set(present))
        modes = [m.mode for m in summary.modes if m.scenario == scenario]
        cell = {(s.mode, s.tag): s for s in tags}
        heading = "All scenarios" if scenario == ALL else f"Scenario `{scenario}`"
        out += [f"## {heading}", ""]
        rows = [[mode] + [f"{_pct(cell[mode, t].value)} ({cell[mode, t].n})" if (mode, t) in cell else "–"
                          for t in present] for mode in modes]
        out += _table(["mode"] + [f"{t} (answered)" if t in LEAK_TAGS else t for t in present], rows) + [""]
        rows = [[m.mode, str(m.n), f"{_pct(m.recall_accuracy)} ({m.recall_n})", _num(m.latency_p50_ms),
                 _num(m.latency_p95_ms), _num(m.mean_prompt_tokens, 1),
                 f"{_pct(m.routing_accuracy)} ({m.routed_n})" if m.routed_n else "–",
                 f"{m.asked_as_right} of {m.asked_as_n} right" if m.asked_as_n else "–",
                 _pct(m.weights_as_asked), _sources(m.right_by_source)]
                for m in summary.modes if m.scenario == scenario]
        out += _table(["mode", "probes", "recall", "p50 ms", "p95 ms", "prompt tokens", "routing", "asked as taught",
                       "weights as asked", "right by source"], rows) + [""]
        cats = [c for c in summary.categories if c.scenario == scenario]
        if cats:
            out += ["LoCoMo's token F1 by question category (its own rules; span match = the strict score):", ""]
            judged = any(c.judged_n for c in cats)
            rows = [[c.mode, f"{c.category} {CATEGORIES.get(c.category, '')}", str(c.n), f"{c.f1:.3f}",
                     _pct(c.span_match)] + ([f"{_pct(c.j)} ({c.judged_n})"] if judged else []) for c in cats]
            out += _table(["mode", "category", "questions", "token F1", "span match"]
                          + (["J (LLM judge)"] if judged else []), rows) + [""]
        if plots:
            out += [f"![accuracy by mode and tag]({plot_name('accuracy', scenario)})", ""]
    return "\n".join(out)


def _sources(right: dict[str, int]) -> str:
    """"lookup 12 · weights-taught 20 · reading 3": the recall probes each source answered right."""
    order = ("lookup", "weights", "weights-taught", "reading", "base")
    return " · ".join(f"{s} {right[s]}" for s in sorted(right, key=lambda s: (order.index(s) if s in order else 9, s))
                      if right[s]) or "–"


# --- plots (matplotlib's Agg canvas through Figure, so no display and no pyplot global state) -------------------


def plot_accuracy_by_tag(rows: list[TagSummary], path: Path, title: str) -> None:
    """Grouped bars: one group per tag, one bar per mode."""
    from matplotlib.figure import Figure

    tags = [t for t in TAGS if any(r.tag == t for r in rows)]
    modes = sorted({r.mode for r in rows}, key=lambda m: (MODE_ORDER.index(m) if m in MODE_ORDER else 99, m))
    cell = {(r.mode, r.tag): r.value for r in rows}
    fig = Figure(figsize=(max(6.0, 1.4 * len(tags) + 2), 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        xs = [k + (i - (len(modes) - 1) / 2) * width for k in range(len(tags))]
        values = [cell.get((mode, t)) for t in tags]
        bars = ax.bar(xs, [100 * v if v is not None else 0.0 for v in values], width, label=mode)
        # a label on every bar that exists, so 0% reads differently from "mode not run on this tag"
        ax.bar_label(bars, [f"{100 * v:.0f}" if v is not None else "" for v in values], fontsize="x-small")
    ax.set_xticks(range(len(tags)), [f"{t}\n(answered, want 0)" if t in LEAK_TAGS else t for t in tags])
    ax.set_ylim(0, 110)
    ax.set_ylabel("% of probes")
    ax.set_title(title)
    ax.legend(title="mode", fontsize="small")
    fig.savefig(path, dpi=100)


def plot_accuracy_by_length(points: list[LengthPoint], path: Path) -> None:
    """One line per mode: recall accuracy in buckets of facts stated before the probe."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    buckets = sorted({(p.low, p.high) for p in points})
    for mode in dict.fromkeys(p.mode for p in points):
        mine = {(p.low, p.high): p.accuracy for p in points if p.mode == mode}
        xs = [i for i, b in enumerate(buckets) if b in mine]
        ax.plot(xs, [100 * mine[buckets[i]] for i in xs], marker="o", label=mode)
    ax.set_xticks(range(len(buckets)), [f"{lo}–{hi}" for lo, hi in buckets])
    ax.set_ylim(-3, 105)  # a line at 0% stays visible
    ax.set_xlabel("facts stated before the probe")
    ax.set_ylabel("recall accuracy (%)")
    ax.legend(title="mode", fontsize="small")
    fig.savefig(path, dpi=100)


# --- files -----------------------------------------------------------------------------------------------------


def write_report(results: list[ProbeResult], out_dir: str | Path, title: str = "engram evaluation",
                 plots: bool = True, failures: list[dict] | None = None,
                 provenance: dict | None = None) -> dict[str, Path]:
    """Write results.json, report.md and the plots into out_dir; returns {"results", "report", plot names...}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    written = {"results": out / "results.json", "report": out / "report.md"}
    payload = {"probes": [asdict(r) for r in results], "summary": summary.to_dict(), "failures": failures or [],
               "provenance": provenance}
    written["results"].write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    text = render_markdown(summary, title, plots)
    if failures:
        text += "\n\n## Failed steps\n\n" + "\n".join(_table(
            ["scenario", "file:line", "step", "reason", "steps skipped"],
            [[f["scenario"], f"{f['path']}:{f['line']}", f["action"], f["reason"].replace("|", "/"),
              str(f["skipped_steps"])] for f in failures]))
    echoes = {(r.scenario, r.question, r.echoes) for r in results if r.echoes}
    if echoes:
        text += ("\n\n## Probes that echo a taught question\n\nTheir figures are taught recall: the probe says what an "
                 "adapter of its namespace was taught in other order or with fillers (evals.disjoint).\n\n"
                 + "\n".join(_table(["scenario", "probe", "taught"], [list(e) for e in sorted(echoes)])))
    if provenance:
        text += (f"\n\nMeasured {provenance['measured_at']} at commit {provenance['commit']} on "
                 f"{provenance['machine']} by `{provenance['command']}`.")
    written["report"].write_text(text + "\n", encoding="utf-8")
    if plots:
        for scenario in _scenario_order({s.scenario for s in summary.tags}):
            name = plot_name("accuracy", scenario)
            heading = "all scenarios" if scenario == ALL else scenario
            plot_accuracy_by_tag([s for s in summary.tags if s.scenario == scenario], out / name, heading)
            written[name] = out / name
        if summary.by_length:
            name = plot_name("length", ALL)
            plot_accuracy_by_length(summary.by_length, out / name)
            written[name] = out / name
    return written


def load_results(path: str | Path) -> list[ProbeResult]:
    """The probe records of a results.json written by write_report."""
    return [ProbeResult(**r) for r in json.loads(Path(path).read_text(encoding="utf-8"))["probes"]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Re-render report.md and plots from a results.json")
    parser.add_argument("results", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--title", default="engram evaluation")
    parser.add_argument("--summary-only", action="store_true",
                        help="write summary.json (figures, failed steps, provenance) without any question or answer: "
                             "publishable for a dataset whose licence forbids redistributing it (LoCoMo)")
    args = parser.parse_args(argv)
    if args.summary_only:
        saved = json.loads(args.results.read_text(encoding="utf-8"))
        args.out_dir.mkdir(parents=True, exist_ok=True)
        path = args.out_dir / "summary.json"
        path.write_text(json.dumps({k: saved.get(k) for k in ("summary", "failures", "provenance")}, indent=1)
                        + "\n", encoding="utf-8")
        print(path)
        return
    for path in write_report(load_results(args.results), args.out_dir, args.title).values():
        print(path)


if __name__ == "__main__":
    main()
