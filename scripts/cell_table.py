"""How fast does the truncated delta-cell problem give H-bar?  (SPEC section 3, issue 4)

1. The theorem's schedule: |delta(n) omega^n(0) + H-bar| for n = 1 ... 10 with
   delta(n) = n^-(4 + alpha), alpha in {0.5, 1}, d = 1, for the quadratic and the
   wide/narrow loss, and d = 2 (the disc) for the quadratic loss.  Each entry is solved on two grids (h, h/2); the column
   "grid err" is the Richardson estimate |v_{h/2} - v_h| / 3 of the grid error of
   the tabulated (fine-grid) value, which must be smaller than the tabulated error.
   H-bar is the quadrature route (the closed form for the quadratic loss agrees
   with it to 1e-15).
2. The question the theorem leaves open: the error over the (n, delta) plane for
   delta = n^-k, k = 0.5 ... 6, and for fixed delta; a figure (cell_map.png).

Markdown on stdout; LaTeX (booktabs) and CSV next to the figure in --out.
    python scripts/cell_table.py [--quick] [--out results/]
"""
from __future__ import annotations

import os
import time
import warnings

import numpy as np

from hjb import AssumptionWarning, DeepRelaxation, effective_hamiltonian, make_loss
from hjb.solvers.cell import solve_truncated_cell
from hjb.output.figures import cell_error_map, write_figure
from hjb.runner.dask import parallel_map
from hjb.output.tables import Table, script_parser

# xbar is a node of every grid used (4h divides it), so the kink of h(y) at y = xbar sits on a
# node and the grid error has a clean expansion in h^2 (Richardson needs that).
XBAR, PBAR = 0.5, 1.0


def models():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        return {"quadratic": DeepRelaxation(make_loss("quadratic", 1, a=1.0, c=0.5), 2.0),
                "wide_narrow": DeepRelaxation(make_loss("wide_narrow", 1), 5.0)}


def richardson(model, n, delta, h, grids=2, xbar=XBAR, pbar=PBAR):
    """Richardson-extrapolated delta omega(0) from steps h 2^(grids-1) ... h: returns the list of
    extrapolations (4 v_h - v_2h)/3 of consecutive pairs (the grid error is O(h^2), even in h)."""
    steps = [h * 2**j for j in range(grids - 1, -1, -1)]
    v = [solve_truncated_cell(model, xbar, pbar, n, delta, s).delta_omega_at_center for s in steps]
    return [(4.0 * b - a) / 3.0 for a, b in zip(v[:-1], v[1:])]


def centre_value(model, n, delta, h, xbar=XBAR, pbar=PBAR):
    """(value, estimate of its grid error): the extrapolation from (2h, h), and its distance to the
    one from (4h, 2h), which bounds the grid error of the latter and so, conservatively, of the former."""
    coarse, fine = richardson(model, n, delta, h, grids=3, xbar=xbar, pbar=pbar)
    return fine, abs(fine - coarse)


def schedule_table(name, model, hbar, radii, h, xbar=XBAR, pbar=PBAR):
    d = model.dim
    table = Table(["n", "delta (a=0.5)", "error (a=0.5)", "grid err (a=0.5)",
                   "delta (a=1)", "error (a=1)", "grid err (a=1)"],
                  caption=f"{name}, d = {d}: |delta(n) omega^n(0) + H-bar|, delta(n) = n^-(4+a), "
                          f"xbar = {xbar}, pbar = {pbar}, H-bar = {hbar:.10f}, h = {h:g}")
    worst_ratio = 0.0
    for n in radii:
        row = [n]
        for alpha in (0.5, 1.0):
            delta = float(n) ** -(4 + alpha)
            value, grid = centre_value(model, float(n), delta, h, xbar, pbar)
            error = abs(value + hbar)
            worst_ratio = max(worst_ratio, grid / error)
            row += [delta, error, grid]
        table.add(*row)
    return table, worst_ratio


def error_map(model, hbar, radii, exponents, fixed, h):
    """errors[i, j] for delta = n_i^-k_j, then one column per fixed delta."""
    deltas = [[float(n) ** -k for k in exponents] + list(fixed) for n in radii]
    errors = np.array([[abs(richardson(model, float(n), d, h)[-1] + hbar) for d in row]
                       for n, row in zip(radii, deltas)])
    return errors


def _model_study(item):
    """The n -> infinity table and the (n, delta) map of one model (module level, for Dask)."""
    name, radii, exponents, fixed, h = item
    model = models()[name]
    hbar = float(effective_hamiltonian(model, [XBAR], [PBAR])[0])
    table, ratio = schedule_table(name, model, hbar, radii, h)
    return name, table, ratio, error_map(model, hbar, radii, exponents, fixed, h)


def main(argv=None):
    args = script_parser(__doc__, out="results").parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    radii = list(range(1, 7)) if args.quick else list(range(1, 11))
    h = 0.0125 if args.quick else 0.0025
    exponents = [0.5, 1.0, 2.0, 4.0, 6.0] if args.quick else [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5, 5.0, 6.0]
    fixed = [1e-2, 1e-4] if args.quick else [1e-2, 1e-4, 1e-6]
    maps = {}
    studies = parallel_map(_model_study, [(name, radii, exponents, fixed, h) for name in models()],
                           args.workers, args.scheduler)
    for name, table, ratio, errors in studies:
        print(table.emit(os.path.join(args.out, f"cell_schedule_{name}")))
        print(f"\nlargest (grid error) / (tabulated error): {ratio:.2e}\n")
        maps[name] = errors
        m = Table(["n"] + [f"k={k:g}" for k in exponents] + [f"delta={d:g}" for d in fixed],
                  caption=f"{name}, d = 1: |delta omega^n(0) + H-bar| over the (n, delta) plane, delta = n^-k or fixed")
        for n, row in zip(radii, maps[name]):
            m.add(n, *row)
        print(m.emit(os.path.join(args.out, f"cell_map_{name}")))
        print()
    # The disc (d = 2, Shortley-Weller cut cells), quadratic loss: H-bar has a closed form
    # (SPEC section 9: (x - Y) . p is Gaussian) and the quadrature route agrees with it.
    disc = DeepRelaxation(make_loss("quadratic", 2, a=1.0, c=[0.5, -0.3]), 2.0)
    xbar2, pbar2 = [0.4, 0.0], [1.0, 1.0]      # the kink line y1 + y2 = 0.4 runs through nodes of every grid
    hbar2 = float(effective_hamiltonian(disc, [xbar2], [pbar2])[0])
    radii2 = list(range(1, 5)) if args.quick else list(range(1, 11))
    table, ratio = schedule_table("quadratic on the disc", disc, hbar2, radii2, 0.1 if args.quick else 0.025,
                                  xbar2, pbar2)
    print(table.emit(os.path.join(args.out, "cell_schedule_quadratic_disc")))
    print(f"\nlargest (grid error) / (tabulated error): {ratio:.2e}\n")
    path = os.path.join(args.out, "cell_map.png")
    write_figure(cell_error_map(maps, radii, exponents, fixed), path)
    print(f"figure: {path}; {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
