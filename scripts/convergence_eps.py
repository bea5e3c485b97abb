"""V^eps -> v: errors of the eps-HJB value against the effective value, with observed rates in eps.

For each loss (quadratic, wide_narrow) and each eps, the sup and L2 errors of
V^eps(0, x, y) - v(0, x) over the inner region |x| <= 2, |y - x| <= 1 (where
the fast variable lives), with v the semi-analytic reachable-interval value
(SPEC section 4).  The grid error |V^eps_h - V^eps_{h/2}| is printed beside
it as 2 |V^eps_h - V^eps_{h/2}| (the first-order estimate of the error of
V^eps_h), so one sees where the eps error stops dominating.

    python scripts/convergence_eps.py [--quick] [--out results/tables] [--workers N | --scheduler ADDR]
"""
from __future__ import annotations

import os
import warnings

import numpy as np

import hjb
from hjb.reference.regions import value_region
from hjb.output.figures import convergence, write_figure
from hjb.output.tables import Table, observed_order, script_parser, successive_orders

#: loss -> (unused, loss table, gamma, half-width of the x and y boxes)
CASES = {
    "quadratic": (None, dict(name="quadratic", a=1.0, c=0.5), 2.0, 4.0),
    "wide_narrow": (None, dict(name="wide_narrow"), 5.0, 5.0),
}


def _sweep(loss_name: str, eps_values, points: int, T: float, workers, scheduler):
    """V^eps(0, ., .) for every eps through the case runner (a sweep: Dask with --workers)."""
    _, params, gamma, half = CASES[loss_name]
    axis = {"lower": -half, "upper": half, "points": points}
    case = {"kind": "eps_hjb", "model": {"gamma": gamma, "loss": dict(params)},
            "grid": {"x": axis, "y": dict(axis)}, "solve": {"T": T, "eps": list(eps_values)}}
    result = hjb.run(hjb.runner.case.case_from_dict(case), workers=workers, scheduler=scheduler)
    return [member["value"] for member in result.members.values()], result


def errors_for(loss_name: str, eps_values, points: int, T: float = 0.5, workers=1, scheduler=None):
    """Rows (eps, sup error, L2 error, grid error estimate) over the inner region."""
    coarse, result = _sweep(loss_name, eps_values, points, T, workers, scheduler)
    fine, _ = _sweep(loss_name, eps_values, 2 * points - 1, T, workers, scheduler)
    first = next(iter(result.members.values()))
    x, y = first.coords["x"], first.coords["y"]
    _, params, gamma, _ = CASES[loss_name]
    params = dict(params)
    model = hjb.DeepRelaxation(hjb.make_loss(params.pop("name"), **params), gamma)
    region = value_region(x[:, None], y[:, None])
    rows_x = np.flatnonzero(region.any(axis=1))
    exact = np.full(len(x), np.nan)
    exact[rows_x] = hjb.reachable_value(model, x[rows_x], T)
    rows = []
    for eps, V, V_fine in zip(eps_values, coarse, fine):
        err = (V - exact[:, None])[region]
        rows.append((eps, np.max(np.abs(err)), np.sqrt(np.mean(err**2)),
                     2.0 * np.max(np.abs(V - V_fine[::2, ::2])[region])))
    return rows


def main(argv=None):
    args = script_parser(__doc__).parse_args(argv)
    warnings.simplefilter("ignore", hjb.AssumptionWarning)
    eps_values = [0.1, 0.01, 0.001] if args.quick else [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
    points = 161 if args.quick else 321
    series = {}
    for loss_name in CASES:
        rows = errors_for(loss_name, eps_values, points, workers=args.workers, scheduler=args.scheduler)
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
        series[f"{loss_name}: sup error"] = (eps, sup)
        series[f"{loss_name}: grid error (est.)"] = (eps, grid)
    fig = convergence(series, "eps", "error of V^eps(0, x, y) against v(0, x)",
                      f"V^eps -> v, {points}^2 nodes, T = 0.5", slopes=(1,))
    print("figure:", write_figure(fig, os.path.join(args.out, "convergence_eps.png")))


if __name__ == "__main__":
    main()
