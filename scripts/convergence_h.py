"""Observed orders of every scheme in hjb against its exact or semi-analytic solution.

Each study refines one scheme on three or more grids and reports the error
and the least-squares order; the table is the measured counterpart of the
orders asserted in tests/.

    python scripts/convergence_h.py [--quick] [--out results/tables] [--workers N | --scheduler ADDR]
"""
from __future__ import annotations

import os
import warnings

import numpy as np

import hjb
from hjb.hbar.markov import hbar_markov
from hjb.output.figures import convergence, write_figure
from hjb.runner.dask import parallel_map
from hjb.output.tables import Table, observed_order, script_parser

T = 0.5


def _quadratic():
    return hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), 2.0)


def effective_scheme(scheme):
    def study(sizes):
        model = _quadratic()
        xs = np.linspace(-2, 2, 17)
        exact = hjb.reachable_value(model, xs, T)
        for n in sizes:
            grid = hjb.Grid.box(-4, 4, n)
            v = hjb.solve_effective(model, grid, T, scheme=scheme).value
            yield grid.spacings[0], np.max(np.abs(np.interp(xs, grid.axes[0].nodes, v) - exact))
    study.__doc__ = f"Effective HJ equation ({scheme} scheme) vs the reachable-interval value, quadratic loss."
    return study


def eps_hjb_scheme(interpolation):
    def study(sizes):
        yield from _eps_hjb_study(sizes, interpolation)
    study.__doc__ = (f"eps-HJB ({interpolation} feet) with a y-independent slow drift (V^eps = v exactly) "
                     "vs its exact solution.")
    return study


def _eps_hjb_study(sizes, interpolation):
    c = 0.3
    model = hjb.TwoScaleModel(1, lambda x, y, u: -u * (x - c) + 0.0 * y, lambda x, y: x - y,
                              lambda x: np.cos(2.0 * x[..., 0]))
    for n in sizes:
        gx, gy = hjb.Grid.box(-2, 2, n), hjb.Grid.box(-2, 2, 21, name="y")
        x = gx.axes[0].nodes
        far = c + (x - c) * np.exp(-T)
        exact = np.array([hjb.reference.reachable.minimum_on_interval(model.g, min(a, b), max(a, b))
                          for a, b in zip(x, far)])
        V = hjb.solve_eps_hjb(model, gx, gy, T, 1e-3, interpolation=interpolation).value
        yield gx.spacings[0], np.max(np.abs(V[:, 10] - exact))


def invariant_measure(scheme):
    """H-bar from the discrete invariant measure of the fast generator vs quadrature (wide_narrow)."""
    def study(sizes):
        model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), 5.0)
        exact = hjb.effective_hamiltonian(model, [0.8], [1.0])[0]
        for n in sizes:
            points = 4 * n
            got = hbar_markov(model, [0.8], [1.0], box=(-5.0, 5.0), points=points, scheme=scheme)[0]
            yield 10.0 / (points - 1), abs(got - exact)
    study.__doc__ = f"Discrete invariant measure of L_y ({scheme} rates) vs quadrature H-bar, wide_narrow."
    return study


def cell_problem(sizes):
    """Truncated cell problem, h = 1, b = 0 on the disc D_n: delta omega(0) = -1 + 1/I0(sqrt(delta) n)."""
    from scipy.special import i0
    e1 = np.array([1.0, 0.0])
    model = hjb.TwoScaleModel(2, lambda x, y, u: -u * np.broadcast_to(e1, np.shape(y)), lambda x, y: 0.0 * y,
                              lambda x: np.zeros(np.shape(x)[:-1]))
    delta, n = 0.5, 2.3
    exact = -1.0 + 1.0 / i0(np.sqrt(delta) * n)
    for size in sizes:
        h = 2 * n / (size // 2)
        sol = hjb.solve_truncated_cell(model, [0.0, 0.0], e1, n, delta, h)
        yield h, abs(sol.delta_omega_at_center - exact)


def viscous(beta, scheme):
    def study(sizes):
        from hjb.reference.quadratic import quadratic_cole_hopf
        from hjb.solvers.viscous import solve_viscous_hj
        loss, t = hjb.make_loss("quadratic", a=1.0, c=0.5), 0.5
        for size in sizes:
            grid = hjb.Grid.box(-3, 3, size)
            x = grid.nodes()
            exact = quadratic_cole_hopf(1.0, 0.5, beta, x, t)
            inner = np.abs(x[..., 0]) <= 1.5
            u = solve_viscous_hj(loss, grid, t, beta, scheme=scheme).value
            yield grid.spacings[0], np.max(np.abs(u - exact)[inner])
    study.__doc__ = (f"Viscous HJ (beta = {beta:g}, {scheme}) vs the Cole-Hopf closed form, quadratic loss, |x| <= 1.5."
                     if np.isfinite(beta) else
                     f"Godunov scheme ({scheme}) for Hopf-Lax vs the exact Moreau envelope, quadratic loss.")
    return study


STUDIES = {
    "effective, monotone": effective_scheme("monotone"),
    "effective, filtered": effective_scheme("filtered"),
    "eps-HJB, y-independent drift, linear": eps_hjb_scheme("linear"),
    "eps-HJB, y-independent drift, cubic": eps_hjb_scheme("cubic"),
    "fast generator, fitted": invariant_measure("fitted"),
    "fast generator, upwind": invariant_measure("upwind"),
    "truncated cell problem, disc": cell_problem,
    "viscous HJ, beta = 5, monotone": viscous(5.0, "monotone"),
    "viscous HJ, beta = 5, filtered": viscous(5.0, "filtered"),
    "Hopf-Lax, Godunov, monotone": viscous(np.inf, "monotone"),
    "Hopf-Lax, Godunov, filtered": viscous(np.inf, "filtered"),
}


def _study(item):
    """(name, h, errors) of one study (a module-level function, so Dask can ship it)."""
    name, sizes = item
    h, err = (np.array(c) for c in zip(*STUDIES[name](sizes)))
    return name, h, err


def main(argv=None):
    args = script_parser(__doc__).parse_args(argv)
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    sizes = [51, 101, 201] if args.quick else [101, 201, 401, 801]
    table = Table(["scheme", "h (finest)", "error (finest)", "observed order"],
                  caption="Observed orders against exact or semi-analytic solutions")
    outcomes = parallel_map(_study, [(name, sizes) for name in STUDIES], args.workers, args.scheduler)
    for name, h, err in outcomes:
        table.add(name, h[-1], err[-1], observed_order(h, err))
    print(table.emit(os.path.join(args.out, "convergence_h")))
    for name, study in STUDIES.items():
        print(f"- {name}: {study.__doc__}")
    fig = convergence({name: (h, err) for name, h, err in outcomes}, "h", "error",
                      "observed orders against exact solutions", slopes=(1, 2))
    print("figure:", write_figure(fig, os.path.join(args.out, "convergence_h.png")))


if __name__ == "__main__":
    main()
