"""Benchmark of the effective equation's schemes against the semi-analytic value (issue 13).

wide_narrow on [-5, 5]: gamma = 1, T = 1, error at x = 0, and gamma = 5, T = 0.5, error at
x = 0.5, against the reachable-interval value (DOP853, rtol 1e-10), for the default
filtered scheme (WENO5 / SSP-RK3 within c sqrt(h) dt of the monotone step) and the
monotone one, on refined grids.  Times are of the whole solve (velocity table included),
printed as ratios to the monotone scheme on the same grid, measured in one run; the last
column is the process's peak resident memory so far.  Targets: <= 2e-5 at 401 nodes
(gamma 1) and <= 5e-5 at 801 nodes (gamma 5) with the default scheme.  A second table times
the d = 2 velocity table (wide_narrow, wells at (-1.5, 0) and (1.5, 0), gamma 5, 32
directions) per x-node: per direction (before issue 13), one shared evaluation per point
(ties on the diagonals' switching lines split), and the correlations over a 201^2 grid (the
route solve_effective takes), each with its largest error against a per-direction rule
rotated to put a panel break on each switching line.  A third times the whole d = 2 solve at
201^2 against numpy.linalg.solve on a 1500 x 1500 system (target: under 200 times it).

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
                          peak_mib())
    print(table.emit())
    print()
    print(velocity_table_d2(2 if args.quick else 8).emit())
    print()
    print(solve_d2(41 if args.quick else 201).emit())


WELLS_2D = dict(wide_center=[-1.5, 0.0], narrow_center=[1.5, 0.0])


def velocity_table_d2(points):
    """Seconds per x-node of the d = 2 velocity table: per direction (before issue 13), one
    shared evaluation per point, and the correlations over a 201^2 grid on [-3, 3]^2; the
    largest error of each against the aligned reference at ``points`` nodes of that grid."""
    from hjb.hbar.convolution import convolution_velocities
    from hjb.hbar.velocities import averaged_velocities, unit_directions
    from hjb.reference.velocities import aligned_velocities, per_direction_velocities
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, **WELLS_2D), gamma=5.0)
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [201, 201])
    thetas = unit_directions(2, 4)
    sample = np.random.default_rng(0).choice(grid.size, points, replace=False)
    x = grid.nodes().reshape(-1, 2)[sample]
    reference = aligned_velocities(model, x, thetas)
    rows = []
    for name, build, nodes in (("per direction (before)", lambda: per_direction_velocities(model, x), points),
                               ("shared, ties split", lambda: averaged_velocities(model, x), points),
                               ("correlations, 201² grid (now)", lambda: convolution_velocities(model, grid, thetas)[0],
                                grid.size)):
        start = time.perf_counter()
        table = build()
        seconds = time.perf_counter() - start
        table = table if nodes == points else table[sample]
        rows.append((name, nodes, seconds / nodes, float(np.max(np.abs(table[:, 1:] - reference)))))
    out = Table(["table", "x-nodes", "s per x-node", "/ per direction", "max error", "peak RSS MiB"],
                caption="d = 2 velocity table (wide_narrow, gamma 5, 34 candidates): error against a rule "
                        "broken on each switching line")
    for name, nodes, per_node, error in rows:
        out.add(name, nodes, per_node, per_node / rows[0][2], error, peak_mib())
    return out


def solve_d2(points):
    """The d = 2 effective equation (wide_narrow, gamma 5, T = 0.5, [-3, 3]^2) whole solve, both
    schemes, against numpy.linalg.solve on a 1500 x 1500 system measured in the same run
    (median of five); target: under 200 times it."""
    rng = np.random.default_rng(0)
    a, b = rng.random((1500, 1500)) + 1500 * np.eye(1500), rng.random(1500)
    np.linalg.solve(a, b)
    yardstick = []
    for _ in range(5):
        start = time.perf_counter()
        np.linalg.solve(a, b)
        yardstick.append(time.perf_counter() - start)
    yardstick = float(np.median(yardstick))
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=2, **WELLS_2D), gamma=5.0)
    grid = hjb.Grid.box([-3.0, -3.0], [3.0, 3.0], [points, points])
    out = Table(["solve", "nodes", "steps", "s", "/ linalg.solve(1500)", "target", "peak RSS MiB"],
                caption=f"d = 2 effective equation, wide_narrow, gamma 5, T = 0.5 "
                        f"(numpy.linalg.solve(1500): {yardstick * 1e3:.1f} ms)")
    for scheme in ("monotone", "filtered"):
        start = time.perf_counter()
        sol = hjb.solve_effective(model, grid, 0.5, scheme=scheme)
        seconds = time.perf_counter() - start
        ratio = seconds / yardstick
        out.add(scheme, f"{points}²", sol.steps, seconds, ratio, "met" if ratio < 200 else "missed", peak_mib())
    return out


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


if __name__ == "__main__":
    main()
