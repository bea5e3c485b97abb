"""Benchmark of the effective equation's schemes against the semi-analytic value (issue 13).

wide_narrow on [-5, 5]: gamma = 1, T = 1, error at x = 0, and gamma = 5, T = 0.5, error at
x = 0.5, against the reachable-interval value (DOP853, rtol 1e-10), for the default
filtered scheme (WENO5 / SSP-RK3 within c sqrt(h) dt of the monotone step) and the
monotone one, on refined grids.  Times are of the whole solve (velocity table included),
printed as ratios to the monotone scheme on the same grid, measured in one run; the last
column is the process's peak resident memory so far.  Targets: <= 2e-5 at 401 nodes
(gamma 1) and <= 5e-5 at 801 nodes (gamma 5) with the default scheme.  A second table times
the d = 2 velocity table (wide_narrow, wells at (-1.5, 0) and (1.5, 0), gamma 5, 32
directions) per x-node against the per-direction evaluation it replaced, with their largest
differences: in -v . theta (H-bar in each direction: tied controls pay the same, so this is
rounding) and in any component (ties on the diagonals' switching lines, which the table now
splits and the per-direction evaluation settled by rounding).

    python scripts/bench_effective.py [--quick]
"""
from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np

import hjb
from hjb.output.tables import Table

CASES = [(1.0, 1.0, 0.0, 2e-5, 401), (5.0, 0.5, 0.5, 5e-5, 801)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grids, for CI")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    sizes = (101, 201) if args.quick else (201, 401, 801, 1601)
    table = Table(["gamma", "T", "x", "nodes", "scheme", "error", "solve s", "/ monotone", "target", "peak RSS MiB"],
                  caption="effective HJ equation, wide_narrow on [-5, 5], error against the reachable-interval value")
    hjb.solve_effective(hjb.DeepRelaxation(hjb.make_loss("quadratic"), gamma=1.0), hjb.Grid.box(-2, 2, 21), 0.1)
    for gamma, T, x0, target, at in CASES:
        model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=gamma)
        exact = float(hjb.reachable_value(model, [x0], T)[0])
        for n in sizes:
            grid = hjb.Grid.box(-5, 5, n)
            times = {}
            for scheme in ("monotone", "filtered"):
                start = time.perf_counter()
                value = hjb.solve_effective(model, grid, T, scheme=scheme).value
                times[scheme] = time.perf_counter() - start
                error = float(np.interp(x0, grid.axes[0].nodes, value) - exact)
                mark = ("met" if abs(error) <= target else "missed") if (n == at and scheme == "filtered") else ""
                table.add(gamma, T, x0, n, scheme, error, times[scheme], times[scheme] / times["monotone"], mark,
                          resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    print(table.emit())
    print()
    print(velocity_table_d2(4 if args.quick else 16).emit())


def velocity_table_d2(points):
    """Seconds per x-node of the d = 2 velocity table, shared evaluation against per direction."""
    from hjb.hbar.velocities import unit_directions
    from hjb.reference.velocities import per_direction_velocities
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, wide_center=[-1.5, 0.0],
                                             narrow_center=[1.5, 0.0]), gamma=5.0)
    x = np.random.default_rng(0).uniform(-2.0, 2.0, size=(points, 2))
    thetas = unit_directions(2, 4)

    start = time.perf_counter()
    before = per_direction_velocities(model, x)      # the table before issue 13
    before_s = time.perf_counter() - start
    start = time.perf_counter()
    after = hjb.averaged_velocities(model, x)
    after_s = time.perf_counter() - start
    along = np.einsum("ntd,td->nt", after[:, 2:] - before[:, 2:], thetas)
    table = Table(["table", "x-nodes", "s per x-node", "/ per direction", "max diff of -v.theta", "max diff"],
                  caption="d = 2 velocity table (34 candidates, 36,864 quadrature nodes a point)")
    table.add("per direction (before)", points, before_s / points, 1, "", "")
    table.add("shared, ties split (now)", points, after_s / points, after_s / before_s, np.max(np.abs(along)),
              np.max(np.abs(after - before)))
    return table


if __name__ == "__main__":
    main()
