"""Benchmark: the truncated delta-cell problem on the disc D_n (d = 2) with ~10^6 unknowns.

Prints, for the iterative (geometric multigrid) and the direct (SuperLU)
solver: unknowns, nonzeros, assembly time, set-up time (multigrid hierarchy or
LU factorisation), solve time (set-up included), their total, the corrections
with the edge-form residual (multigrid cycles or refinement steps) and
delta omega(0).  Each solver runs --repeat times; the first run of the process
also pays about 1 s of one-off start-up (first calls into the libraries, heap growth).

    python scripts/bench_cell.py [--quick] [--unknowns 1e6] [--repeat 2] [--direct-max 1.1e6]

The direct solver's fill grows like N log N at best, so above --direct-max
unknowns it is skipped and says so.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hjb import DeepRelaxation, make_loss  # noqa: E402
from hjb.solvers.cell import solve_truncated_cell  # noqa: E402
from hjb.output.tables import Table  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 unknowns instead of 10^6, one run")
    parser.add_argument("--unknowns", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=2, help="runs per solver (each is a row)")
    parser.add_argument("--direct-max", type=float, default=1.1e6, help="skip the direct solver above this size")
    parser.add_argument("--radius", type=float, default=4.0)
    parser.add_argument("--delta", type=float, default=1e-4)
    args = parser.parse_args(argv)
    for name in ("unknowns", "repeat", "radius", "delta"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    target, repeat = (1e5, 1) if args.quick else (args.unknowns, args.repeat)
    n = args.radius
    h = n * np.sqrt(np.pi / target)                      # pi (n/h)^2 unknowns in the disc
    import pyamg  # noqa: F401  (imported before timing: its import is a one-off 0.5 s)
    model = DeepRelaxation(make_loss("quadratic", 2, a=1.0, c=[0.5, 0.0]), 2.0)
    table = Table(["solver", "unknowns", "nonzeros", "assembly [s]", "set-up [s]", "solve [s]", "total [s]",
                   "corrections", "delta omega(0)"],
                  caption=f"d = 2 disc, n = {n:g}, h = {h:.3g}, delta = {args.delta:g}, quadratic loss "
                          f"(gamma = 2), xbar = (0.3, 0.1), pbar = (1, 0.5); {os.cpu_count()} cores")
    for solver in ("iterative", "direct"):
        if solver == "direct" and target > args.direct_max:
            print(f"direct solver skipped at {target:.3g} unknowns (> --direct-max {args.direct_max:.3g})")
            continue
        for _ in range(repeat):
            sol = solve_truncated_cell(model, [0.3, 0.1], [1.0, 0.5], n, args.delta, h, solver=solver)
            table.add(solver, sol.unknowns, sol.nonzeros, sol.assembly_time, sol.stats["setup_time"],
                      sol.solve_time, sol.assembly_time + sol.solve_time, sol.refinements,
                      f"{sol.delta_omega_at_center:.12f}")
    print(table.emit())


if __name__ == "__main__":
    main()
