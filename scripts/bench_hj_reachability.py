"""Benchmark: hjb's effective equation against StanfordASL's hj_reachability (WENO5, JAX on CPU).

The problem of scripts/bench_effective.py: wide_narrow on [-5, 5], gamma = 1, T = 1, error
at x = 0, and gamma = 5, T = 0.5, error at x = 0.5, against the reachable-interval value.
Both codes solve -v_t + H-bar(x, v_x) = 0, v(T) = f, with

    H-bar(x, p) = max over a in [-gamma A+(x), gamma A-(x)] of (-a p),

the interval of averaged velocities of the extended controls.  hj_reachability gets it as
control-affine dynamics x' = c(x) + r(x) u, u in [-1, 1] (the centre and half-width of the
interval, interpolated linearly from hjb's velocity table on its grid, written to a file before
its run: that table is problem data, not part of its time), in float64 with its "very_high"
accuracy (WENO5, TVD-RK3, global Lax-Friedrichs, CFL 0.75).  hjb runs its default scheme
(filtered WENO5 / SSP-RK3), velocity table included.

Each solve runs as its own process; the times are whole-process (import, JIT compilation,
set-up and solve), measured in one run and printed with the ratio hjb / hj_reachability, so
"at equal error" can be read along the rows.  hj_reachability is not a dependency of hjb: it
runs in the interpreter given by --python (a venv with ``pip install hj-reachability jax``);
without one the script says so and prints hjb's rows only.

    python scripts/bench_hj_reachability.py [--quick] [--python /path/to/venv/bin/python]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = [(1.0, 1.0, 0.0), (5.0, 0.5, 0.5)]

HJB_CHILD = """
import json, sys, time, warnings
import numpy as np
import hjb
warnings.simplefilter("ignore", hjb.AssumptionWarning)
gamma, T, x0, n = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
grid = hjb.Grid.box(-5, 5, n)
sol = hjb.solve_effective(hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=gamma), grid, T)
print(json.dumps({"value": float(np.interp(x0, grid.axes[0].nodes, sol.value)), "steps": sol.steps,
                  "peak": open("/proc/self/status").read().split("VmHWM:")[1].split()[0]}))
"""

HJR_CHILD = """
import json, sys
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import hj_reachability as hj
data = np.load(sys.argv[1])
T, x0 = float(sys.argv[2]), float(sys.argv[3])
xs, centre, half, g = (jnp.asarray(data[k]) for k in ("x", "centre", "half", "g"))

class Averaged(hj.ControlAndDisturbanceAffineDynamics):
    def __init__(self):
        super().__init__("min", "max", hj.sets.Box(jnp.array([-1.0]), jnp.array([1.0])),
                         hj.sets.Box(jnp.array([0.0]), jnp.array([0.0])))
    def open_loop_dynamics(self, state, time):
        return jnp.interp(state, xs, centre)
    def control_jacobian(self, state, time):
        return jnp.interp(state, xs, half)[:, None]
    def disturbance_jacobian(self, state, time):
        return jnp.zeros((1, 1))

grid = hj.Grid.from_lattice_parameters_and_boundary_conditions(
    hj.sets.Box(np.array([-5.0]), np.array([5.0])), (len(data["x"]),))
settings = hj.SolverSettings.with_accuracy("very_high")
value = hj.step(settings, Averaged(), grid, 0.0, g, -T, progress_bar=False)
value = np.asarray(value)
print(json.dumps({"value": float(np.interp(x0, np.asarray(grid.coordinate_vectors[0]), value)),
                  "peak": open("/proc/self/status").read().split("VmHWM:")[1].split()[0]}))
"""


def run(python, code, *args):
    """(the child's JSON, whole-process seconds, its peak RSS MiB).  The child reads its own
    VmHWM: the rusage of a child forked from this (large) process would count this one's pages."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        start = time.perf_counter()
        child = subprocess.run([python, "-c", code, *map(str, args)], stdout=subprocess.PIPE, stderr=errors, text=True)
        wall = time.perf_counter() - start
        if child.returncode != 0:
            errors.seek(0)
            last = (errors.read().strip().splitlines() or [""])[-1]
            raise SystemExit(f"bench_hj_reachability: a child failed: {last}")
    result = json.loads(child.stdout)
    return result, wall, int(result["peak"]) / 1024.0


def equal_error(rows):
    """For each hj_reachability run: the fastest hjb run of the same case at least as accurate."""
    from hjb.output.tables import Table
    table = Table(["gamma", "hj_reachability nodes", "its error", "its s", "hjb nodes", "hjb error", "hjb s",
                   "hjb s / hj_reachability s"],
                  caption="at equal error: the fastest hjb run of the same case whose error is no larger")
    for gamma, T, x0, n, _, _, _, error, seconds, _, _ in rows:
        matches = [r for r in rows if tuple(r[:3]) == (gamma, T, x0) and abs(r[4]) <= abs(error)]
        if matches:
            best = min(matches, key=lambda r: r[5])
            table.add(gamma, n, error, seconds, best[3], best[4], best[5], best[5] / seconds)
        else:
            table.add(gamma, n, error, seconds, "none", "", "", "")
    return table


def has_hj_reachability(python) -> bool:
    if python is None:
        return False
    probe = subprocess.run([python, "-c", "import hj_reachability, jax"], capture_output=True)
    return probe.returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grids, for CI")
    parser.add_argument("--python", help="an interpreter with hj_reachability and jax (default: this one, if it has them)")
    args = parser.parse_args(argv)
    python = args.python or sys.executable
    compare = has_hj_reachability(python)
    if args.python and not compare:
        raise SystemExit(f"bench_hj_reachability: {args.python} cannot import hj_reachability and jax")
    sizes = (101, 201) if args.quick else (201, 401, 801, 1601, 3201)

    import warnings

    import numpy as np

    import hjb
    from hjb.output.tables import Table
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    columns = ["gamma", "T", "x", "nodes", "hjb error", "hjb s", "hjb MiB"]
    if compare:
        columns += ["hj_reachability error", "hj_reachability s", "hj_reachability MiB", "hjb s / hj_reachability s"]
    table = Table(columns, caption="effective equation, wide_narrow on [-5, 5]: whole-process times (import, "
                                   "compilation, set-up, solve), errors against the reachable-interval value")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for gamma, T, x0 in CASES:
            model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=gamma)
            exact = float(hjb.reachable_value(model, [x0], T)[0])
            for n in sizes:
                mine, mine_s, mine_mib = run(sys.executable, HJB_CHILD, gamma, T, x0, n)
                row = [gamma, T, x0, n, mine["value"] - exact, mine_s, mine_mib]
                if compare:
                    grid = hjb.Grid.box(-5, 5, n)
                    nodes = grid.axes[0].nodes
                    table_v = hjb.averaged_velocities(model, nodes)[..., 0]
                    low, high = table_v.min(axis=1), table_v.max(axis=1)
                    path = os.path.join(folder, f"problem_{gamma:g}_{n}.npz")
                    np.savez(path, x=nodes, centre=0.5 * (low + high), half=0.5 * (high - low),
                             g=model.g(nodes[:, None]))
                    theirs, theirs_s, theirs_mib = run(python, HJR_CHILD, path, T, x0)
                    row += [theirs["value"] - exact, theirs_s, theirs_mib, mine_s / theirs_s]
                table.add(*row)
                results.append(row)
    print(table.emit())
    if compare:
        print()
        print(equal_error(results).emit())
    if not compare:
        print("\nhj_reachability is not importable here: pass --python /path/to/venv/bin/python of a venv with "
              "`pip install hj-reachability jax` to compare")


if __name__ == "__main__":
    main()
