"""Command line: ``hjb run | list | show`` (SPEC section 10).

Exit codes: 0 success, 2 bad input (one line on stderr naming the key), 1 an
internal failure.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import warnings

import numpy as np

from .errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, as for every other user mistake
        self.exit(2, f"hjb: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hjb", description="Solvers for the PDEs of deep relaxation.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a case file")
    run.add_argument("case")
    run.add_argument("-o", "--output", help="result file (default: [output].file, else results/<case>.h5)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a case key")
    run.add_argument("--force", action="store_true", help="overwrite an existing result file")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    lst = sub.add_parser("list", help="the shipped cases")
    lst.add_argument("--cases", default=None, help="case folder (default: cases/ of this checkout)")
    show = sub.add_parser("show", help="what a result file holds")
    show.add_argument("file")
    return parser


def _cases_dir(explicit=None) -> str:
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cases")
    return here if os.path.isdir(here) else os.path.join(os.getcwd(), "cases")


def _progress(quiet: bool):
    """A tqdm bar on a terminal, nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm
    bar = tqdm(total=0, unit="step", file=sys.stderr, leave=False)

    def on_step(i, n):
        if bar.total != n:
            bar.reset(total=n)
        bar.n = i
        bar.refresh()
    return on_step, bar


def _output_path(args, case) -> str:
    if args.output:
        return args.output
    out = case.data.get("output", {})
    if isinstance(out, dict) and isinstance(out.get("file"), str):
        return out["file"]
    return os.path.join("results", os.path.splitext(os.path.basename(args.case))[0] + ".h5")


def cmd_run(args) -> int:
    from .case import load_case
    from .io import save
    from .kinds import run
    case = load_case(args.case, args.set)
    out = _output_path(args, case)
    if os.path.exists(out) and not args.force:
        raise InputError(out, "exists already; pass --force to overwrite it")
    on_step, bar = _progress(args.quiet)
    try:
        result = run(case, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    save(result, out, force=args.force)
    if not args.quiet:
        print(f"{case.kind}: wrote {out}")
    return 0


def cmd_list(args) -> int:
    from .case import load_case
    folder = _cases_dir(args.cases)
    for path in sorted(glob.glob(os.path.join(folder, "*.toml"))):
        try:
            case = load_case(path)
            print(f"{os.path.relpath(path):40s} {case.kind:12s} {case.data.get('title', '')}")
        except InputError as exc:
            print(f"{os.path.relpath(path):40s} (unreadable: {exc})")
    return 0


def _describe(result, indent="") -> list:
    lines = []
    for key, value in result.attrs.items():
        lines.append(f"{indent}{key} = {value}")
    for name, values in result.coords.items():
        lines.append(f"{indent}coordinate {name}: {len(values)} points on [{values.min():g}, {values.max():g}]")
    for name, values in result.data.items():
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        summary = f"min {finite.min():.6g}, max {finite.max():.6g}" if finite.size else "empty"
        lines.append(f"{indent}{name} {values.shape} over ({', '.join(result.dims[name])}): {summary}")
    for member, sub in result.members.items():
        lines.append(f"{indent}[{member}]")
        lines.extend(_describe(sub, indent + "  "))
    return lines


def cmd_show(args) -> int:
    from .io import load
    result = load(args.file)
    print(f"kind: {result.kind}")
    print("\n".join(_describe(result)))
    return 0


COMMANDS = {"run": cmd_run, "list": cmd_list, "show": cmd_show}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    warnings.formatwarning = lambda msg, cat, *a, **k: f"hjb: warning: {msg}\n"
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"hjb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hjb: interrupted; no result written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
