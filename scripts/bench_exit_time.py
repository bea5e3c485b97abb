"""Benchmark: the mean exit time (kind exit_time) against the truncated cell problem (kind cell),
both on the disc D_n (d = 2) with ~10^6 unknowns, measured in one run.

Both kinds solve a Dirichlet problem with the fitted Shortley-Weller operator of
hjb.operators.ball on the same lattice; exit_time has delta = 0 (a harder problem
for multigrid: no shift, and tau of size e^{beta barrier}) and a coarse solve that
sizes tau.  Each solve runs in a forked child process, so that its peak resident
memory (resource.getrusage, ru_maxrss) is its own; solves alternate exit_time /
cell, --repeat times per solver, and the ratio uses the best total of each.

    python scripts/bench_exit_time.py [--quick] [--unknowns 1e6] [--repeat 2] [--direct-max 1.1e6]

Prints a Markdown table (assembly, solve = set-up + corrections, total, corrections,
peak RSS) and the ratios exit_time / cell of the total time and of the peak memory.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hjb import DeepRelaxation, Grid, make_loss  # noqa: E402
from hjb.output.tables import Table  # noqa: E402
from hjb.solvers.cell import solve_truncated_cell  # noqa: E402
from hjb.solvers.exit_time import mean_exit_time  # noqa: E402

LOSS = dict(name="quadratic", dim=2, a=1.0, c=[0.5, 0.0])


def _measure(kind: str, solver: str, n: float, h: float, beta: float, delta: float, queue) -> None:
    """One solve in this (child) process; puts its figures and its own peak RSS on ``queue``."""
    loss = make_loss(LOSS["name"], LOSS["dim"], a=LOSS["a"], c=LOSS["c"])
    if kind == "exit_time":
        J = int(np.floor(n / h + 1e-9))
        grid = Grid.box([-J * h] * 2, [J * h] * 2, [2 * J + 1] * 2)
        sol = mean_exit_time(loss, grid, beta, radius=n, solver=solver)
        row = (sol.unknowns, sol.solve.nonzeros, sol.assembly_time, sol.solve.solve_time, sol.solve.corrections,
               f"max tau = {sol.max_value:.6g}")
    else:
        sol = solve_truncated_cell(DeepRelaxation(loss, 2.0), [0.3, 0.1], [1.0, 0.5], n, delta, h, solver=solver)
        row = (sol.unknowns, sol.nonzeros, sol.assembly_time, sol.solve_time, sol.refinements,
               f"delta omega(0) = {sol.delta_omega_at_center:.6g}")
    queue.put(row + (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,))


def measure(kind, solver, n, h, beta, delta):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(kind, solver, n, h, beta, delta, queue))
    child.start()
    row = queue.get()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the {kind} {solver} solve failed (exit code {child.exitcode})")
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 unknowns instead of 10^6, one run")
    parser.add_argument("--unknowns", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=2, help="runs per kind and solver (each is a row)")
    parser.add_argument("--direct-max", type=float, default=1.1e6, help="skip the direct solver above this size")
    parser.add_argument("--radius", type=float, default=4.0)
    parser.add_argument("--beta", type=float, default=1.0, help="inverse temperature of exit_time")
    parser.add_argument("--delta", type=float, default=1e-4, help="delta of the cell problem")
    args = parser.parse_args(argv)
    for name in ("unknowns", "repeat", "radius", "beta", "delta"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    target, repeat = (1e5, 1) if args.quick else (args.unknowns, args.repeat)
    n = args.radius
    h = n * np.sqrt(np.pi / target)                      # pi (n/h)^2 unknowns in the disc
    import pyamg  # noqa: F401  (imported before forking: its import is a one-off 0.5 s)
    measure("exit_time", "direct", n, n / 8, args.beta, args.delta)     # warm-up: first calls, heap growth
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    table = Table(["kind", "solver", "unknowns", "nonzeros", "assembly [s]", "solve [s]", "total [s]",
                   "corrections", "peak RSS [MB]", "result"],
                  caption=f"d = 2 disc, n = {n:g}, h = {h:.4g}; loss {LOSS['name']} (a = 1, c = (0.5, 0)); "
                          f"exit_time beta = {args.beta:g}; cell gamma = 2, delta = {args.delta:g}, xbar = (0.3, 0.1), "
                          f"pbar = (1, 0.5); each solve in a child process (parent {baseline:.0f} MB); "
                          f"{os.cpu_count()} cores")
    best = {}
    for solver in ("iterative", "direct"):
        if solver == "direct" and target > args.direct_max:
            print(f"direct solver skipped at {target:.3g} unknowns (> --direct-max {args.direct_max:.3g})")
            continue
        for _ in range(repeat):
            for kind in ("exit_time", "cell"):
                unknowns, nonzeros, assembly, solve, corrections, result, rss = measure(kind, solver, n, h,
                                                                                         args.beta, args.delta)
                total = assembly + solve
                table.add(kind, solver, unknowns, nonzeros, assembly, solve, total, corrections, rss, result)
                old = best.get((kind, solver), (np.inf, 0.0))
                best[(kind, solver)] = (min(old[0], total), max(old[1], rss))
    print(table.emit())
    print()
    for solver in ("iterative", "direct"):
        if ("exit_time", solver) in best:
            (t_exit, m_exit), (t_cell, m_cell) = best[("exit_time", solver)], best[("cell", solver)]
            print(f"{solver}: exit_time / cell = {t_exit / t_cell:.2f}x in time (best {t_exit:.3g} s against "
                  f"{t_cell:.3g} s; target < 2x), {m_exit / m_cell:.2f}x in peak memory "
                  f"({m_exit:.0f} MB against {m_cell:.0f} MB)")


if __name__ == "__main__":
    main()
