"""What every bench module does around its measurement, in one place so that results stay comparable: the run's
provenance is taken before anything is measured, `--json` leaves only the result on stdout, and a result file
(`--out`) is written in the one format bench/results holds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from evals.provenance import provenance


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The bench's parser (its module docstring as the help); first notes the commit and time the run starts
    from, so a tree edited while it runs cannot change what the result records."""
    provenance()
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def parse(ap: argparse.ArgumentParser, *, out: str | None = None,
          json_help: str = "print only the JSON result") -> argparse.Namespace:
    """Adds --json, and --out where the bench keeps its result (`out`: an example path for the help), after
    the bench's own options, then parses the command line."""
    ap.add_argument("--json", action="store_true", help=json_help)
    if out:
        ap.add_argument("--out", type=Path, help=f"also write the result here (e.g. {out})")
    return ap.parse_args()


def logger(args: argparse.Namespace) -> Callable[[str], None]:
    """Progress lines on stdout, none with --json (stdout then holds the result alone)."""
    return (lambda m: None) if args.json else (lambda m: print(m, flush=True))


def write(path: Path, result: dict) -> None:
    """A result file as bench/results holds them: indented by one, with a final newline."""
    path.write_text(json.dumps(result, indent=1) + "\n")


def report(result: dict, args: argparse.Namespace) -> dict:
    """The result with its provenance: written to --out if given, and printed (one line with --json)."""
    result["provenance"] = provenance()
    if getattr(args, "out", None):
        write(args.out, result)
    print(json.dumps(result, indent=None if args.json else 2))
    return result
