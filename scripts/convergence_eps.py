"""V^eps -> v: errors of the eps-HJB value against the effective value, with observed rates in eps.

For each loss (quadratic, wide_narrow) and each eps, the sup and L2 errors of
V^eps(0, x, y) - v(0, x) over the inner region |x| <= 2, |y - x| <= 1 (where
the fast variable lives), with v the semi-analytic reachable-interval value
(SPEC section 4).  The grid error |V^eps_h - V^eps_{h/2}| is printed beside
it as 2 |V^eps_h - V^eps_{h/2}| (the first-order estimate of the error of
V^eps_h), so one sees where the eps error stops dominating.

    python scripts/convergence_eps.py [--quick] [--out results/tables]
"""
from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

import hjb
from hjb.tables import Table, observed_order, successive_orders

CASES = {
    "quadratic": (hjb.make_loss, dict(name="quadratic", a=1.0, c=0.5), 2.0, 4.0),
    "wide_narrow": (hjb.make_loss, dict(name="wide_narrow"), 5.0, 5.0),
}


def errors_for(loss_name: str, eps_values, points: int, T: float = 0.5):
    make, params, gamma, half = CASES[loss_name]
    params = dict(params)
    model = hjb.DeepRelaxation(make(params.pop("name"), **params), gamma)
    rows = []
    grids = {n: (hjb.Grid.box(-half, half, n), hjb.Grid.box(-half, half, n, name="y"))
             for n in (points, 2 * points - 1)}
    gx, gy = grids[points]
    x, y = gx.axes[0].nodes, gy.axes[0].nodes
    region = (np.abs(x)[:, None] <= 2.0) & (np.abs(y[None, :] - x[:, None]) <= 1.0)
    rows_x = np.flatnonzero(region.any(axis=1))
    exact = np.full(len(x), np.nan)
    exact[rows_x] = hjb.reachable_value(model, x[rows_x], T)
    for eps in eps_values:
        coarse = hjb.solve_eps_hjb(model, gx, gy, T, eps).value
        fine = hjb.solve_eps_hjb(model, *grids[2 * points - 1], T, eps).value[::2, ::2]
        err = (coarse - exact[:, None])[region]
        rows.append((eps, np.max(np.abs(err)), np.sqrt(np.mean(err**2)),
                     2.0 * np.max(np.abs(coarse - fine)[region])))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grid and three eps, for CI")
    parser.add_argument("--out", default="results/tables", help="folder for the .tex and .csv files")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    eps_values = [0.1, 0.01, 0.001] if args.quick else [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
    points = 161 if args.quick else 321
    for loss_name in CASES:
        rows = errors_for(loss_name, eps_values, points)
        eps, sup, l2, grid = (np.array(c) for c in zip(*rows))
        table = Table(["eps", "sup error", "rate", "L2 error", "rate", "grid error (est.)"],
                      caption=f"V^eps -> v, {loss_name}, {points}^2 nodes, |x|<=2, |y-x|<=1")
        for row in zip(eps, sup, successive_orders(eps, sup), l2, successive_orders(eps, l2), grid):
            table.add(*row)
        print(table.emit(os.path.join(args.out, f"convergence_eps_{loss_name}")))
        dominated = sup > 2 * grid
        if dominated.sum() >= 2:
            print(f"\nobserved rate in eps where the eps error dominates (sup > 2 x grid error): "
                  f"{observed_order(eps[dominated], sup[dominated]):.2f}\n")
        else:
            print("\n(grid error dominates at every eps on this grid)\n")


if __name__ == "__main__":
    main()
