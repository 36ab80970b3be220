"""The folders are the processes and imports only run downward (DESIGN §2): checked on the source itself."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engram", "agent", "workers", "consolidation", "memory_service", "language", "evals", "bench")
# package -> the packages (or modules) it must never import
FORBIDDEN = {
    # the ground floor: English only, over spaCy
    "language": ("engram", "agent", "workers", "consolidation", "memory_service", "evals", "bench"),
    "memory_service": ("agent", "workers", "consolidation", "evals", "engram", "bench"),
    "consolidation": ("agent", "workers", "evals", "engram", "bench"),
    "workers": ("agent", "evals", "engram", "bench"),
    # the agent answers with the model module, never through the trainer or the gate
    "agent": ("workers", "evals", "engram", "bench", "consolidation.train", "consolidation.run",
              "consolidation.gate"),
    "evals": ("engram", "bench"),
    "engram": ("bench",),
}
PRODUCTION = ("engram", "agent", "workers", "consolidation", "memory_service", "language")


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.add(module)
            out |= {f"{module}.{a.name}" for a in node.names}
    return out


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_only_run_downward(package):
    bad = [f"{p.relative_to(ROOT)} imports {m}" for p in sources(package) for m in sorted(imports(p))
           if any(under(m, f) for f in FORBIDDEN[package])]
    assert not bad, "\n".join(bad)


def test_test_data_never_feeds_production_code():
    bad = [f"{p.relative_to(ROOT)} imports {m}" for pkg in PRODUCTION for p in sources(pkg)
           for m in imports(p) if under(m, "evals.fictional")]
    assert not bad, "\n".join(bad)


def test_every_package_is_packaged():
    import tomllib

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in include} == set(PACKAGES)


def test_the_api_process_imports_no_torch():
    """memory_service is the API process: it starts without torch (the agent loads it on the first chat)."""
    code = ("import sys, memory_service.api, memory_service.relay, memory_service.status, engram.app; "
            "print(sorted(m for m in ('torch', 'transformers', 'peft', 'agent') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_forbidden_import_is_caught(tmp_path):
    """The checker itself: a relative import that climbs out of a package resolves to the right name."""
    probe = tmp_path / "memory_service" / "store" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..settings import Settings\nfrom consolidation.model import generate\n")
    found = imports(probe, root=tmp_path)
    assert "memory_service.settings" in found and "consolidation.model.generate" in found
    assert any(under(m, "consolidation") for m in found)



def word_lists(path: Path, root: Path = ROOT, least: int = 20) -> list[str]:
    """Literals in a file that list `least` or more lower-case English words (a set, list, tuple or dict keys)."""
    word = re.compile(r"[a-z][a-z'-]*(?: [a-z][a-z'-]*)*")
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.Set, ast.List, ast.Tuple, ast.Dict)):
            continue
        items = node.keys if isinstance(node, ast.Dict) else node.elts
        words = [e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)
                 and word.fullmatch(e.value)]
        if len(words) >= least:
            found.append(f"{path.relative_to(root)}:{node.lineno} ({len(words)} words: {', '.join(words[:3])} ...)")
    return found


def test_english_word_lists_live_in_language():
    """What the system knows about English is in one place (language.lexicon): no other package defines a word
    list of 20 words or more."""
    bad = [hit for pkg in PACKAGES if pkg != "language" for p in sources(pkg) for hit in word_lists(p)]
    assert not bad, "\n".join(bad)


def test_the_word_list_check_finds_one(tmp_path):
    numbers = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
               "seventeen eighteen nineteen twenty").split()
    probe = tmp_path / "probe.py"
    titled = [w.title() for w in numbers]
    probe.write_text(f"NUMBERS = {set(numbers)!r}\nSHORT = {set(numbers[:19])!r}\nNAMES = {titled!r}\n")
    assert [hit.split(" ")[0] for hit in word_lists(probe, root=tmp_path)] == ["probe.py:1"]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_cycles(files: dict[str, Path], root: Path = ROOT) -> list[list[str]]:
    """Strongly connected components of more than one module in the graph of imports between `files`
    (module name -> path); `from pkg import sub` is an edge to the submodule, as `imports` names it."""
    graph = {m: {i for i in imports(p, root) if i in files and i != m} for m, p in files.items()}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            new = graph[todo.pop()] - seen
            seen |= new
            todo += new
        return seen

    reached = {m: reach(m) for m in graph}
    return sorted({tuple(sorted({m} | {n for n in reached[m] if m in reached[n]})) for m in graph
                   if m in reached[m]})


def test_no_import_cycles():
    """A cycle makes the import order matter and hides which module is the floor below the other: what both
    need belongs in a third module they import."""
    files = {module_name(p): p for pkg in PACKAGES if pkg != "bench" for p in sources(pkg)}
    cycles = import_cycles(files)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_an_import_cycle_is_caught(tmp_path):
    """The cycle finder itself: a function-level `from . import b` closes a circle; a one-way import does not."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import f\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from . import a\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.a\n")
    files = {module_name(p, tmp_path): p for p in (tmp_path / "pkg").glob("*.py")}
    assert import_cycles(files, tmp_path) == [("pkg.a", "pkg.b")]
