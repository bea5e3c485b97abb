"""The checks that tie the PDEs to the SDEs (SPEC section 6), as three tables.

1. Theorem 1: E|X^eps_T - X-hat_T|^2 (u = 1, X-hat the entropic gradient
   descent) with 95% confidence intervals for eps = 1, 0.1, 0.01, 0.001 on the
   quadratic and wide_narrow losses, and the observed rate in eps.  The
   Euler-Maruyama step is a fixed fraction of the fast time scale
   eps/(gamma + Lip grad f), so its bias (the floor) does not shrink with eps.
2. The value is a value: Monte Carlo of g(X^eps_T) under the feedback u* read
   from the eps-HJB snapshots against V^eps(0, x, y) of the PDE (fine grid),
   within 3 standard errors plus the PDE's discretisation error (the change
   from the coarse to the fine grid); the constant controls u = 0 and u = 1.
3. Invariant measure: the fast variable with X frozen (u = 0) samples
   N((a c + gamma x)/(a + gamma), 1/(a + gamma)) for the quadratic loss (SPEC
   section 9), up to the Euler-Maruyama variance factor 1/(1 - k delta/2).

    python scripts/sde_table.py [--quick] [--out results/tables]
"""
from __future__ import annotations

import os
import time
import warnings

import numpy as np
from scipy.interpolate import RegularGridInterpolator

import hjb
from hjb.stochastic.feedback import FeedbackControl
from hjb.stochastic.two_scale import entropic_gradient_descent, fast_time_scale, simulate
from hjb.runner.dask import parallel_map
from hjb.output.tables import Table, observed_order, script_parser
from hjb.reference.quadratic import gibbs_mean, gibbs_variance

Z95 = 1.96


def _models():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # wide_narrow is outside assumption (A); it still runs
        return {"quadratic": (hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), 2.0), -1.0, 1.0),
                "wide_narrow": (hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), 5.0), 0.0, 0.5)}


def theorem_1(quick: bool) -> Table:
    table = Table(["loss", "eps", "dt/(fast scale)", "paths", "E|X-Xhat|^2", "95% CI half-width", "steps", "seconds"],
                  caption="Theorem 1: E|X^eps_T - Xhat_T|^2 (u = 1) against entropic gradient descent")
    rates = {}
    for name, (model, x0, T) in _models().items():
        fraction = 0.1 if name == "quadratic" else 0.25
        epss = [1.0, 0.1, 0.01] if quick and name == "wide_narrow" else [1.0, 0.1, 0.01, 0.001]
        paths = 200 if quick else (1000 if name == "quadratic" else 400)
        x_hat = entropic_gradient_descent(model, x0, T)
        means = []
        for eps in epss:
            start = time.perf_counter()
            run = simulate(model, x0, x0, T, eps, fraction * fast_time_scale(model, eps), paths, 1.0, seed=2024)
            sq = np.sum((run.X_T - x_hat) ** 2, axis=-1)
            means.append(sq.mean())
            table.add(name, eps, fraction, paths, sq.mean(), Z95 * sq.std(ddof=1) / np.sqrt(paths), run.steps,
                      time.perf_counter() - start)
        rates[name] = (observed_order(epss, means), observed_order(epss[:3], means[:3]))
    table.caption += "; observed rate in eps (all eps / eps >= 0.01): " + ", ".join(
        f"{k} {a:.2f} / {b:.2f}" for k, (a, b) in rates.items())
    return table


def value_check(quick: bool) -> Table:
    table = Table(["loss", "x", "y", "V^eps PDE", "PDE disc. error", "E g(X_T) under u*", "std. error",
                   "|MC - PDE|", "3 SE + disc.", "agrees", "E g, u = 0", "E g, u = 1"],
                  caption="The value is a value: Monte Carlo under the feedback u* vs V^eps(0, x, y), eps = 0.1, T = 0.5")
    eps, T = 0.1, 0.5
    paths = 1000 if quick else 4000
    points = {"quadratic": [(-1.0, -1.0), (2.0, 1.0)], "wide_narrow": [(-1.0, -1.0), (2.0, 1.0)]}
    sizes = {"quadratic": (161, 321), "wide_narrow": (321, 641)}
    if quick:
        sizes = {"quadratic": (81, 161), "wide_narrow": (161, 321)}
    for name, (model, _, _) in _models().items():
        values = []
        for n in sizes[name]:
            grid = hjb.Grid.box(-4, 4, n)
            sol = hjb.solve_eps_hjb(model, grid, hjb.Grid.box(-4, 4, n, name="y"), T, eps,
                                    dt=5.0 / n / 8, snapshots=26)
            nodes = grid.axes[0].nodes
            values.append(RegularGridInterpolator((nodes, nodes), sol.value))
        feedback = FeedbackControl(model, sol.times, [nodes], [nodes], sol.snapshots)
        dt = 0.05 * fast_time_scale(model, eps)
        for x0, y0 in points[name]:
            v_fine, v_coarse = (float(v([x0, y0])[0]) for v in values[::-1])
            stats = []
            for control in (feedback, 0.0, 1.0):
                g = model.g(simulate(model, x0, y0, T, eps, dt, paths, control, seed=77).X_T)
                stats.append((g.mean(), g.std(ddof=1) / np.sqrt(paths)))
            (mean, se), disc = stats[0], abs(v_fine - v_coarse)
            table.add(name, x0, y0, v_fine, disc, mean, se, abs(mean - v_fine), 3 * se + disc,
                      "yes" if abs(mean - v_fine) <= 3 * se + disc else "NO", stats[1][0], stats[2][0])
    return table


def invariant_measure(quick: bool) -> Table:
    table = Table(["x", "mean (exact)", "mean (MC)", "95% CI (mean)", "variance (exact)", "variance (EM chain)",
                   "variance (MC)", "95% CI (variance)"],
                  caption="Invariant measure of the fast variable, quadratic loss (a = 1, c = 0.5, gamma = 2), eps = 0.01")
    model = _models()["quadratic"][0]
    a, c, gamma, eps = 1.0, 0.5, 2.0, 0.01
    k = a + gamma
    paths = 2000 if quick else 20000
    for i, x in enumerate((-1.0, 0.5, 2.0)):
        # 20 relaxation times from y = x: the start is forgotten up to e^-20
        run = simulate(model, x, x, 20 * eps / k, eps, 0.1 * fast_time_scale(model, eps), paths, 0.0, seed=31 + i)
        y = run.Y_T[:, 0]
        var = gibbs_variance(a, gamma)
        em_var = var / (1 - k * run.dt / eps / 2)
        table.add(x, gibbs_mean(a, c, gamma, x), y.mean(), Z95 * y.std(ddof=1) / np.sqrt(paths),
                  var, em_var, y.var(ddof=1), Z95 * y.var(ddof=1) * np.sqrt(2 / (paths - 1)))
    return table


BUILDS = {"sde_theorem1": "theorem_1", "sde_value": "value_check", "sde_invariant": "invariant_measure"}


def _build(item):
    """(stem, table, seconds) of one of the three tables (module level, so Dask can ship it)."""
    stem, quick = item
    start = time.perf_counter()
    table = globals()[BUILDS[stem]](quick)
    return stem, table, time.perf_counter() - start


def main(argv=None):
    parser = script_parser(__doc__)
    parser.epilog = "--quick: fewer paths, coarser grids, no eps = 0.001 for wide_narrow"
    args = parser.parse_args(argv)
    for stem, table, seconds in parallel_map(_build, [(stem, args.quick) for stem in BUILDS],
                                             args.workers, args.scheduler):
        print(table.emit(os.path.join(args.out, stem)))
        print(f"\n({stem}: {seconds:.1f} s)\n")


if __name__ == "__main__":
    main()
