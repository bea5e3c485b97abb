"""Benchmark of the eps-HJB solver on the hard case of issue 13.

wide_narrow (kappa 0.05, wide 1.5/-1.5/0.8, narrow 2.0/1.5/0.15), gamma = 5, T = 0.5,
eps = 1e-4, x and y on [-5, 5]; the error of V(0, 0.5, 0.5) against the effective value
v(0, 0.5) (the semi-analytic reachable-interval value; the eps-error at 1e-4 is far below
the grid error).  Each configuration runs as its own process, so that its time is the
whole-process time (import, set-up and solve) and its peak resident memory its own.

Rows: the default (cubic interpolation filtered against linear, Courant 10) on refined
grids, the monotone linear scheme at the same Courant number, and the straightforward
scheme, Courant 1 with linear interpolation (the explicit upwind difference in x),
whose time at 401^2 is the yardstick: times are printed as ratios to it.  A second
table checks that the cost does not depend on eps.

    python scripts/bench_eps_hjb.py [--quick] [--fine]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = """
import json, sys, time, warnings
import numpy as np
import hjb
warnings.simplefilter("ignore", hjb.AssumptionWarning)
n, interpolation, courant, eps = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
gx, gy = hjb.Grid.box(-5, 5, n), hjb.Grid.box(-5, 5, n, name="y")
start = time.perf_counter()
sol = hjb.solve_eps_hjb(model, gx, gy, 0.5, eps, courant=courant, interpolation=interpolation)
solve = time.perf_counter() - start
print(json.dumps({"value": float(sol.value[gx.locate(0.5) + gy.locate(0.5)]), "steps": sol.steps, "solve": solve,
                  "nodes": gx.size * gy.size}))
"""


def run(n, interpolation, courant, eps=1e-4):
    """(result of the child, whole-process seconds, peak RSS MiB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(n), interpolation, str(courant), str(eps)],
                             stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_eps_hjb: the run {n} {interpolation} {courant} failed")
    return json.loads(out), wall, usage.ru_maxrss / 1024.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grids, for CI")
    parser.add_argument("--fine", action="store_true", help="also 1601^2 (about 25 s and 1.5 GB)")
    args = parser.parse_args(argv)
    base = 101 if args.quick else 401
    sizes = [51, 101] if args.quick else [201, 401, 801] + ([1601] if args.fine else [])
    configs = [("straightforward: linear, Courant 1", base, "linear", 1.0)]
    configs += [("linear, Courant 10", n, "linear", 10.0) for n in sizes[-2:]]
    configs += [("default: cubic filtered, Courant 10", n, "cubic", 10.0) for n in sizes]

    # the parent imports numpy only after its children ran (a fork would count its pages)
    rows = [(label, n) + run(n, interp, courant) for label, n, interp, courant in configs]
    import warnings

    import hjb
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    from hjb.output.tables import Table
    exact = float(hjb.reachable_value(hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0), [0.5], 0.5)[0])
    yardstick = rows[0][3]
    table = Table(["scheme", "grid", "steps", "error", "whole-process s", "/ straightforward", "ns/node/step",
                   "peak RSS MiB"],
                  caption=f"eps-HJB hard case: wide_narrow, gamma 5, T 0.5, eps 1e-4, V(0, 0.5, 0.5) against "
                          f"v(0, 0.5) = {exact:.6f}; ratios to the straightforward scheme at {base}^2")
    for label, n, result, wall, rss in rows:
        table.add(label, f"{n}^2", result["steps"], result["value"] - exact, wall, wall / yardstick,
                  1e9 * result["solve"] / (result["nodes"] * result["steps"]), rss)
    print(table.emit())

    flat = Table(["eps", "steps", "error", "solve s", "/ eps = 1"],
                 caption=f"the default scheme at {sizes[1]}^2: the cost does not depend on eps")
    runs = [(eps,) + run(sizes[1], "cubic", 10.0, eps) for eps in (1.0, 1e-2, 1e-4, 1e-6)]
    for eps, result, _, _ in runs:
        flat.add(eps, result["steps"], result["value"] - exact, result["solve"], result["solve"] / runs[0][1]["solve"])
    print()
    print(flat.emit())


if __name__ == "__main__":
    main()
