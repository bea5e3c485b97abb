"""Benchmark of the eps-HJB solver on the hard case of issue 13.

wide_narrow (kappa 0.05, wide 1.5/-1.5/0.8, narrow 2.0/1.5/0.15), gamma = 5, T = 0.5,
eps = 1e-4, x and y on [-5, 5]; the error of V(0, 0.5, 0.5) against the effective value
v(0, 0.5) (the semi-analytic reachable-interval value; the eps-error at 1e-4 is far below
the grid error).  Each configuration runs as its own process, so that its time is the
whole-process time (import, set-up and solve) and its peak resident memory its own.

Rows: the default (cubic interpolation filtered against linear, the corrected splitting,
Courant 20) on refined grids, the same with plain Lie splitting at Courant 10 (the default
before the averaging correction), the monotone linear scheme at Courant 10, and the
straightforward scheme, Courant 1 with linear interpolation (the explicit upwind difference
in x), whose time at 401^2 is the yardstick: times are printed as ratios to it.  Two rows
repeat the default at the finest grid and the yardstick with the numba kernel of the
y-solve switched off (HJB_NUMBA=0: the numpy path).  A second
table checks that the cost does not depend on eps.  With --d2, a third table runs the same
problem in d = 2 (wide_narrow with both wells on the diagonal, 25^4 and 41^4; 23^4 with
--quick, the smallest whose blocks are factorised one by one) with the default (the y-blocks'
shared pattern factorised once, their values by numba: hjb.operators.batched_lu; the compiled
step from 5e5 nodes), without numba (SuperLU block by block, the numpy step) and with one
SuperLU of the whole matrix (COLAMD: the factorisation before issue 13), and gives the
cost per node and step against the d = 1 default at the finest grid run, and the part of it
spent in the y-solve's solves alone.

    python scripts/bench_eps_hjb.py [--quick] [--fine] [--d2]
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
d, whole, splitting = int(sys.argv[5]), sys.argv[6] == "whole", sys.argv[7]
WINDOW = [round(-3.0 + 0.05 * k, 2) for k in range(121)]
import hjb.solvers.eps_hjb_step as eps_hjb_step
if whole:                      # the factorisation before issue 13: one SuperLU, COLAMD ordering
    from hjb.operators.fast_solve import SparseLUFactors
    eps_hjb_step.factorize = lambda matrix, blocks=1, solves=1: SparseLUFactors.of(matrix)
Y_SOLVE, factorize = [0.0], eps_hjb_step.factorize


def timed_factorize(*args, **kwargs):      # the y-solve's own time (the factors' solve calls)
    factors = factorize(*args, **kwargs)
    solve = factors.solve
    def timed(rhs):
        start = time.perf_counter()
        out = solve(rhs)
        Y_SOLVE[0] += time.perf_counter() - start
        return out
    factors.solve = timed
    return factors


eps_hjb_step.factorize = timed_factorize
model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=d), gamma=5.0)
gx, gy = hjb.Grid.box([-5] * d, [5] * d, [n] * d), hjb.Grid.box([-5] * d, [5] * d, [n] * d, name="y")
start = time.perf_counter()
sol = hjb.solve_eps_hjb(model, gx, gy, 0.5, eps, courant=courant, interpolation=interpolation, splitting=splitting)
solve = time.perf_counter() - start
window = [float(sol.value[gx.locate([x] * d) + gy.locate([0.5] * d)]) for x in WINDOW] if d == 1 else []
print(json.dumps({"value": float(sol.value[gx.locate([0.5] * d) + gy.locate([0.5] * d)]), "steps": sol.steps, "solve": solve,
                  "y_solve": Y_SOLVE[0],
                  "window": window,
                  "nodes": gx.size * gy.size, "peak": open("/proc/self/status").read().split("VmHWM:")[1].split()[0]}))
"""


def run(n, interpolation, courant, eps=1e-4, d=1, y_solve="blocks", splitting=None, numba=True):
    """(result of the child, whole-process seconds, peak RSS MiB)."""
    splitting = splitting or ("corrected" if interpolation == "cubic" else "lie")
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(n), interpolation, str(courant), str(eps), str(d),
                              y_solve, splitting],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "HJB_NUMBA": "1" if numba else "0"})
    out = child.stdout.read()
    _, status, _ = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_eps_hjb: the run {n} {interpolation} {courant} failed")
    # the child's own high-water mark: the rusage of a child forked from a parent that has
    # imported numpy would count the parent's pages too
    result = json.loads(out)
    return result, wall, int(result["peak"]) / 1024.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grids, for CI")
    parser.add_argument("--fine", action="store_true", help="also 1601^2 (about 25 s and 1.5 GB)")
    parser.add_argument("--d2", action="store_true", help="also d = 2 (41^4: about 40 s and 3 GB)")
    args = parser.parse_args(argv)
    base = 101 if args.quick else 401
    sizes = [51, 101] if args.quick else [201, 401, 801] + ([1601] if args.fine else [])
    configs = [("straightforward: linear, Courant 1", base, "linear", 1.0, {})]
    configs += [("linear, Courant 10", n, "linear", 10.0, {}) for n in sizes[-2:]]
    configs += [("cubic filtered, Lie, Courant 10", n, "cubic", 10.0, {"splitting": "lie"}) for n in sizes]
    configs += [("default: cubic filtered, corrected, Courant 20", n, "cubic", 20.0, {}) for n in sizes]
    configs += [("default, without numba (HJB_NUMBA=0)", sizes[-1], "cubic", 20.0, {"numba": False})]
    configs += [("straightforward, without numba", base, "linear", 1.0, {"numba": False})]

    # the parent imports numpy only after its children ran (a fork would count its pages)
    rows = [(label, n) + run(n, interp, courant, **options) for label, n, interp, courant, options in configs]
    import warnings

    import hjb
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    from hjb.output.tables import Table
    import numpy as np
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    exact = float(hjb.reachable_value(model, [0.5], 0.5)[0])
    window = hjb.reachable_value(model, [round(-3.0 + 0.05 * k, 2) for k in range(121)], 0.5)
    yardstick = rows[0][3]
    table = Table(["scheme", "grid", "steps", "error", "mean abs error, x in [-3, 3]", "max abs error",
                   "whole-process s", "/ straightforward", "ns/node/step", "peak RSS MiB"],
                  caption=f"eps-HJB hard case: wide_narrow, gamma 5, T 0.5, eps 1e-4, V(0, 0.5, 0.5) against "
                          f"v(0, 0.5) = {exact:.6f} (a kink of v), and V(0, x, 0.5) against v(0, x) at x = -3, "
                          f"-2.95, ..., 3; ratios to the straightforward scheme at {base}^2")
    for label, n, result, wall, rss in rows:
        errors = np.abs(np.array(result["window"]) - window)
        table.add(label, f"{n}^2", result["steps"], result["value"] - exact, float(np.mean(errors)),
                  float(np.max(errors)), wall, wall / yardstick,
                  1e9 * result["solve"] / (result["nodes"] * result["steps"]), rss)
    print(table.emit())

    flat = Table(["eps", "steps", "error", "solve s", "/ eps = 1"],
                 caption=f"the default scheme at {sizes[1]}^2: the cost does not depend on eps")
    runs = [(eps,) + run(sizes[1], "cubic", 20.0, eps) for eps in (1.0, 1e-2, 1e-4, 1e-6)]
    for eps, result, _, _ in runs:
        flat.add(eps, result["steps"], result["value"] - exact, result["solve"], result["solve"] / runs[0][1]["solve"])
    print()
    print(flat.emit())
    if args.d2:
        print()
        finest = next(row for row in rows if row[0].startswith("default:") and row[1] == sizes[-1])
        print(d2_table(args.quick, finest).emit())


def d2_table(quick, finest):
    """d = 2: the block-by-block y-solve against one SuperLU of the whole matrix."""
    from hjb.output.tables import Table
    label, n1, result1, _, _ = finest
    per_node_1d = 1e9 * result1["solve"] / (result1["nodes"] * result1["steps"])
    table = Table(["grid", "y-solve", "steps", "whole-process s", "/ whole SuperLU", "ns/node/step",
                   f"/ d = 1 at {n1}^2", "of which the y-solve's", "peak RSS MiB", "/ whole SuperLU"],
                  caption="d = 2: wide_narrow (wells on the diagonal), gamma 5, T 0.5, eps 1e-4, default "
                          "interpolation; ns/node/step over the whole solve, set-up included")
    for n in ([23] if quick else [25, 41]):
        whole = run(n, "cubic", 20.0, 1e-4, 2, "whole")
        for name, (result, wall, rss) in (("one SuperLU, COLAMD", whole),
                                          ("without numba: SuperLU block by block, numpy step",
                                           run(n, "cubic", 20.0, 1e-4, 2, "blocks", numba=False)),
                                          ("default: batched LU, compiled step", run(n, "cubic", 20.0, 1e-4, 2, "blocks"))):
            per_node = 1e9 * result["solve"] / (result["nodes"] * result["steps"])
            table.add(f"{n}^4", name, result["steps"], wall, wall / whole[1], per_node, per_node / per_node_1d,
                      1e9 * result["y_solve"] / (result["nodes"] * result["steps"]), rss, rss / whole[2])
    return table


if __name__ == "__main__":
    main()
