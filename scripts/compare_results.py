"""Run every shipped case at --ci with one checkout of hjb, or compare two such runs bitwise.

    python scripts/compare_results.py run  --tree OLD_CHECKOUT --out /tmp/old
    python scripts/compare_results.py run  --tree .            --out /tmp/new
    python scripts/compare_results.py diff /tmp/old /tmp/new

``run`` executes ``python -m hjb run CASE --ci`` with ``PYTHONPATH`` set to the
tree, for every ``*.toml`` under its ``cases/`` folder (the sde feedback cases
read the eps_hjb result they name, so cases run in name order, each in a work
folder of its own copied from the tree's cases).  ``diff`` compares every
dataset of every result file element by element (NaN equal to NaN) and every
attribute except the timings and the creation stamp; it prints one line per
file and exits 1 if anything differs.  This is how a refactoring shows that it
changed no number (issue: "all results are bitwise identical").
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys

import h5py
import numpy as np

#: Attributes that differ between any two runs (clocks), not results.
VOLATILE = {"created", "wall_time", "assembly_time", "solve_time", "hjb_version"}


def run_all(tree: str, out: str) -> int:
    tree = os.path.abspath(tree)
    os.makedirs(out, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": tree}
    cases = sorted(glob.glob(os.path.join(tree, "cases", "*.toml"))) or \
        sorted(glob.glob(os.path.join(tree, "hjb", "cases", "*.toml")))
    failed = 0
    for case in cases:
        name = os.path.splitext(os.path.basename(case))[0]
        target = os.path.join(os.path.abspath(out), name + ".h5")
        proc = subprocess.run([sys.executable, "-m", "hjb", "run", case, "--ci", "--quiet", "--force",
                               "-o", target], env=env, cwd=tree, capture_output=True, text=True)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
        failed += proc.returncode != 0
        print(f"{name:36s} {status}")
    return 1 if failed else 0


def _items(group: h5py.Group, prefix: str = ""):
    for key, value in group.attrs.items():
        if key not in VOLATILE:
            yield f"{prefix}@{key}", value
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            yield from _items(item, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", item[()]


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def diff_all(old: str, new: str) -> int:
    differ = 0
    for path in sorted(glob.glob(os.path.join(old, "*.h5"))):
        other = os.path.join(new, os.path.basename(path))
        if not os.path.exists(other):
            print(f"{os.path.basename(path):36s} MISSING in {new}")
            differ += 1
            continue
        with h5py.File(path, "r") as fa, h5py.File(other, "r") as fb:
            a, b = dict(_items(fa)), dict(_items(fb))
        bad = sorted(k for k in set(a) | set(b) if k not in a or k not in b or not _same(a[k], b[k]))
        differ += bool(bad)
        print(f"{os.path.basename(path):36s} {'identical' if not bad else 'DIFFERS: ' + ', '.join(bad[:8])}"
              f"  ({len(a)} items)")
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--tree", default=".")
    r.add_argument("--out", required=True)
    d = sub.add_parser("diff")
    d.add_argument("old")
    d.add_argument("new")
    args = parser.parse_args(argv)
    return run_all(args.tree, args.out) if args.command == "run" else diff_all(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
