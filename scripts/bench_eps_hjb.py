"""Benchmark of the eps-HJB solver on the wide/narrow landscape (issue: core engine).

wide_narrow (kappa 0.05, wide 1.5/-1.5/0.8, narrow 2.0/1.5/0.15), gamma = 5,
T = 0.5, x and y on [-5, 5] with 401 x 401 nodes, eps in {1, 1e-2, 1e-4, 1e-6}.
Prints steps, wall time (best of --repeat solves after one warm-up solve),
time per node per step, and the error at x = 0.5
(at y = x and the largest over |y - x| <= 1) against the effective value
from the effective solver on a fine grid (itself checked against the
semi-analytic reachable-interval value).

    python scripts/bench_eps_hjb.py [--points 401] [--compare] [--repeat 3] [--quick]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import hjb
from hjb.output.tables import Table
from hjb.solvers.eps_hjb import DEFAULT_COURANT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=401)
    parser.add_argument("--compare", action="store_true",
                        help="also run the explicit upwind step (Courant 1) for comparison")
    parser.add_argument("--quick", action="store_true", help="coarse grid, for CI")
    parser.add_argument("--repeat", type=int, default=3, help="wall time is the best of this many solves")
    args = parser.parse_args(argv)
    points = 101 if args.quick else args.points

    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    T, x0 = 0.5, 0.5
    fine = hjb.Grid.box(-5, 5, 2001 if args.quick else 8001)
    reference = float(np.interp(x0, fine.axes[0].nodes, hjb.solve_effective(model, fine, T).value))
    semi_analytic = float(hjb.reachable_value(model, [x0], T)[0])
    print(f"effective value v(0, {x0}) = {reference:.6f} on {fine.size} nodes "
          f"(reachable-interval value {semi_analytic:.6f})")

    gx, gy = hjb.Grid.box(-5, 5, points), hjb.Grid.box(-5, 5, points, name="y")
    i = gx.locate(x0)[0]
    near = np.abs(gy.axes[0].nodes - x0) <= 1.0
    table = Table(["scheme", "eps", "steps", "wall s", "ns/node/step", "err y=x", "max err |y-x|<=1"],
                  caption=f"eps-HJB, wide_narrow, gamma 5, T {T}, {points} x {points}")
    courants = [DEFAULT_COURANT] + ([1.0] if args.compare else [])
    hjb.solve_eps_hjb(model, gx, gy, T, 1.0)          # warm-up: first-touch of memory, lazy imports
    for courant in courants:
        for eps in (1.0, 1e-2, 1e-4, 1e-6):
            walls = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                sol = hjb.solve_eps_hjb(model, gx, gy, T, eps, courant=courant)
                walls.append(time.perf_counter() - start)
            wall = min(walls)
            err = sol.value[i] - reference
            table.add(f"courant {courant:g}", eps, sol.steps, wall, 1e9 * wall / (gx.size * gy.size * sol.steps),
                      float(err[i]), float(np.max(np.abs(err[near]))))
    print(table.emit())
    walls = table.column("wall s")[: 4]
    print(f"\nwall time spread over eps: max/min = {walls.max() / walls.min():.2f}")


if __name__ == "__main__":
    main()
