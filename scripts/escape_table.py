"""Escape from minima and saddles: SGD, its diffusion, the mean exit time PDE and Kramers (SPEC section 7).

SGD X_{k+1} = X_k - eta (grad f(X_k) + sigma xi_k / sqrt(B)) is approximated by
dX = -grad f dt + sqrt(2/beta) dW with 2/beta = eta sigma^2 / B and t = k eta.

1. escape_kramers: the double well f = (x^2 - 1)^2/4 (d = 1), leaving the minimum -1
   over the barrier top 0 through (-2.5, 0.5): the PDE mean exit time tau(-1) (fitted
   monotone scheme, two grids: their difference is the grid error), the closed form,
   Kramers' 2 pi / sqrt(f''(-1) |f''(0)|) e^{beta/4}, and Monte Carlo of the diffusion
   (Euler-Maruyama with the Brownian-bridge correction) with its 99% interval, for
   beta = 2 ... 64.  PDE / Kramers -> 1 at the rate O(1/beta) (fitted for beta >= 16).
2. escape_minimum: SGD iterations to leave the same minimum (|X_k + 1| > 1.5) against
   eta: log k ~ (2 B dV / sigma^2) / eta + O(log eta), dV = 1/4; the diffusion
   predicts k ~ tau(beta)/eta (closed form, exact for the diffusion).
3. escape_saddle: SGD from the strict saddle 0 of saddle_well (d = 2) out of the ball of
   radius 0.5: k eta ~ (1/2) log(1/eta) + const (the unstable eigenvalue is 1): almost
   linear in 1/eta, against exp(c/eta) for a minimum.  Linearised prediction
   k eta = (1/2) log(2 B r^2 / (sigma^2 eta)) - (1/2) log(1 - r^2) + (gamma_E + log 2)/2,
   and the PDE tau(0) on the disc.
4. escape_batch: a sharp and a flat minimum of equal depth (sharp_flat, d = 1): mean exit
   iterations (leaving 3 widths from the centre) for B = 1, 2, 4, 8 at fixed eta, sigma.
5. escape_drift: the drift regime: iterations for SGD on f = a/2 x^2 to come within 0.1
   of the minimum from x0 = 2, against 1/f''(0) = 1/a: k eta ~ log(20)/a.

    python scripts/escape_table.py [--quick] [--out results/escape] [--workers N]
"""
from __future__ import annotations

import os
import time

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

import hjb
from hjb.output.figures import write_figure
from hjb.output.tables import Table, observed_order, script_parser
from hjb.reference.exit_time import exit_time_1d, kramers_time
from hjb.runner.dask import parallel_map
from hjb.solvers.exit_time import mean_exit_time
from hjb.stochastic.sgd import diffusion_exit_times, simulate_sgd

DOMAIN = (-2.5, 0.5)             # leaving the minimum -1 of the double well, well past the barrier top 0


def _slope(x, y) -> float:
    return float(np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)[0])


def kramers(quick: bool):
    loss, (a, b) = hjb.make_loss("double_well"), DOMAIN
    betas = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    mc_max, paths, dt = (8.0, 2000, 0.02) if quick else (16.0, 4000, 0.01)
    table = Table(["beta", "tau PDE", "grid error", "tau closed form", "tau Kramers", "PDE / Kramers",
                   "beta (ratio - 1)", "tau MC", "MC 99% half-width", "|MC - PDE|", "agrees"],
                  caption=f"Double well, tau(-1) on {DOMAIN}: PDE (fitted scheme, h = 0.0025 vs 0.005), closed "
                          f"form, Eyring-Kramers, and Monte Carlo of the diffusion ({paths} paths, dt = {dt:g}, "
                          "Brownian-bridge correction)")
    series = {"beta": betas, "ratio": [], "pde": [], "kramers": [], "mc": [], "mc_half": []}
    for beta in betas:
        fine, coarse = (mean_exit_time(loss, hjb.Grid.box(a, b, n), beta) for n in (1201, 601))
        tau = [float(np.interp(-1.0, s.grid.axes[0].nodes, s.value)) for s in (fine, coarse)]
        grid_error = abs(tau[0] - tau[1])
        exact = float(exit_time_1d(loss, a, b, beta, np.array([-1.0]))[0])
        kr = kramers_time(loss, -1.0, 0.0, beta)
        mc, half = np.nan, np.nan
        if beta <= mc_max:
            run = diffusion_exit_times(loss, -1.0, beta, (b - a) / 2, dt, paths, 100 * exact, seed=int(beta),
                                       center=(a + b) / 2)
            mc, half = run.interval(0.99)
        agrees = "–" if np.isnan(mc) else ("yes" if abs(mc - tau[0]) <= half + grid_error else "NO")
        table.add(beta, tau[0], grid_error, exact, kr, tau[0] / kr, beta * (tau[0] / kr - 1), mc, half,
                  abs(mc - tau[0]), agrees)
        for key, value in (("ratio", tau[0] / kr), ("pde", tau[0]), ("kramers", kr), ("mc", mc), ("mc_half", half)):
            series[key].append(value)
    ratio, beta_arr = np.array(series["ratio"]), np.array(betas)
    rates = [observed_order(1.0 / beta_arr[beta_arr >= lo], np.abs(ratio[beta_arr >= lo] - 1)) for lo in (16, 32)]
    series["rate"] = rates[0]
    table.caption += (f"; |PDE/Kramers - 1| ~ (1/beta)^p with p = {rates[0]:.2f} fitted for beta >= 16, "
                      f"{rates[1]:.2f} for beta >= 32 (expected 1)")
    return table, series


def minimum(quick: bool):
    loss, (a, b) = hjb.make_loss("double_well"), DOMAIN
    batch, sigma, barrier = 1, 1.0, 0.25
    etas = [0.25, 0.2, 0.15, 0.125, 0.1] + ([] if quick else [0.09, 0.08])
    paths = 500 if quick else 2000
    table = Table(["eta", "1/eta", "beta = 2B/(eta sigma^2)", "mean exit iteration", "95% half-width", "censored",
                   "diffusion tau/eta", "Kramers tau/eta", "SGD / diffusion"],
                  caption=f"Leaving the minimum -1 of the double well (|X_k + 1| > 1.5), B = {batch}, "
                          f"sigma = {sigma:g}, {paths} paths")
    series = {"inv_eta": [1 / e for e in etas], "mean": [], "half": [], "diffusion": []}
    for eta in etas:
        beta = 2 * batch / (eta * sigma**2)
        predicted = float(exit_time_1d(loss, a, b, beta, np.array([-1.0]))[0]) / eta
        run = simulate_sgd(loss, -1.0, eta, int(50 * predicted) + 1000, paths, batch=batch, sigma=sigma,
                           seed=17, exit_radius=(b - a) / 2)
        s = run.stats
        table.add(eta, 1 / eta, beta, s["mean_exit_iteration"], s["mean_exit_iteration_half_width"],
                  s["censored"], predicted, kramers_time(loss, -1.0, 0.0, beta) / eta,
                  s["mean_exit_iteration"] / predicted)
        series["mean"].append(s["mean_exit_iteration"])
        series["half"].append(s["mean_exit_iteration_half_width"])
        series["diffusion"].append(predicted)
    inv, mean = np.array(series["inv_eta"]), np.array(series["mean"])
    series["slope"] = _slope(inv, np.log(mean))
    series["slope_eta_k"] = _slope(inv, np.log(mean / inv))
    series["slope_diffusion"] = _slope(inv, np.log(np.array(series["diffusion"]) / inv))
    series["predicted"] = 2 * batch * barrier / sigma**2
    table.caption += (f"; fitted slope of log k against 1/eta: {series['slope']:.3f}, of log(eta k): "
                      f"{series['slope_eta_k']:.3f} (diffusion: {series['slope_diffusion']:.3f}); "
                      f"prediction 2 B dV / sigma^2 = {series['predicted']:.3f} as eta -> 0")
    return table, series


def _saddle_prediction(eta, batch, sigma, r):
    return (0.5 * np.log(2 * batch * r**2 / (sigma**2 * eta)) - 0.5 * np.log(1 - r**2)
            + 0.5 * (np.euler_gamma + np.log(2)))


def saddle(quick: bool):
    loss, r, batch, sigma = hjb.make_loss("saddle_well", dim=2), 0.5, 1, 1.0
    etas = [0.1, 0.03, 0.01, 0.003] + ([] if quick else [0.001, 0.0003])
    paths = 500 if quick else 2000
    table = Table(["eta", "mean exit iteration k", "95% half-width", "k eta", "k eta / log(1/eta)",
                   "linearised k eta", "PDE tau(0)"],
                  caption=f"Leaving the strict saddle 0 of saddle_well (d = 2) out of |X| < {r:g}, B = {batch}, "
                          f"sigma = {sigma:g}, {paths} paths; PDE on the disc (h = 0.01)")
    series = {"eta": etas, "k_eta": [], "half": [], "linear": [], "pde": []}
    grid = hjb.Grid.box([-r, -r], [r, r], [101, 101])
    for eta in etas:
        run = simulate_sgd(loss, [0.0, 0.0], eta, int(100 / eta), paths, batch=batch, sigma=sigma, seed=23,
                           exit_radius=r)
        k, half = run.stats["mean_exit_iteration"], run.stats["mean_exit_iteration_half_width"]
        pde = float(mean_exit_time(loss, grid, 2 * batch / (eta * sigma**2), radius=r).value[50, 50])
        linear = _saddle_prediction(eta, batch, sigma, r)
        table.add(eta, k, half, k * eta, k * eta / np.log(1 / eta), linear, pde)
        for key, value in (("k_eta", k * eta), ("half", half * eta), ("linear", linear), ("pde", pde)):
            series[key].append(value)
    small = np.array(etas) <= 0.03                # eta = 0.1 is not small against the unstable time 1
    series["slope"] = _slope(np.log(1 / np.array(etas))[small], np.array(series["k_eta"])[small])
    series["slope_pde"] = _slope(np.log(1 / np.array(etas))[small], np.array(series["pde"])[small])
    table.caption += (f"; fitted slope of k eta against log(1/eta) for eta <= 0.03: {series['slope']:.3f} "
                      f"(PDE: {series['slope_pde']:.3f}; prediction 1/(2 |lambda_-|) = 0.5)")
    return table, series


def _barrier(loss, x0, r):
    """max of f on the cheaper side of [x0 - r, x0 + r], minus f(x0) (d = 1)."""
    sides = [np.linspace(x0 - r, x0, 2001), np.linspace(x0, x0 + r, 2001)]
    return min(float(loss.value(s[:, None]).max()) for s in sides) - float(loss.value(np.array([x0])))


def batch_size(quick: bool):
    loss = hjb.make_loss("sharp_flat")
    p = loss.params
    eta, sigma = 0.005, 24.0
    batches = [1, 2, 4] if quick else [1, 2, 4, 8]
    paths = 300 if quick else 1000
    wells = {"sharp": (float(p["sharp_center"][0]), 3 * p["sharp_width"]),
             "flat": (float(p["flat_center"][0]), 3 * p["flat_width"])}
    table = Table(["B", "beta dV (sharp)", "sharp: mean exit k", "sharp: 95% half-width", "sharp: diffusion tau/eta",
                   "flat: mean exit k", "flat: 95% half-width", "flat: diffusion tau/eta", "flat / sharp"],
                  caption=f"sharp_flat (equal depths {p['depth']:g}, widths {p['sharp_width']:g} and "
                          f"{p['flat_width']:g}): SGD exit iterations (3 widths from the centre), eta = {eta:g}, "
                          f"sigma = {sigma:g}, {paths} paths")
    series = {"B": batches, "sharp": [], "flat": [], "sharp_half": [], "flat_half": [], "sharp_tau": [], "flat_tau": []}
    barrier = {name: _barrier(loss, x0, r) for name, (x0, r) in wells.items()}
    for B in batches:
        beta = 2 * B / (eta * sigma**2)
        row = [B, beta * barrier["sharp"]]
        for name, (x0, r) in wells.items():
            run = simulate_sgd(loss, x0, eta, 10**7, paths, batch=B, sigma=sigma, seed=29, exit_radius=r)
            k, half = run.stats["mean_exit_iteration"], run.stats["mean_exit_iteration_half_width"]
            tau = float(exit_time_1d(loss, x0 - r, x0 + r, beta, np.array([x0]))[0]) / eta
            row += [k, half, tau]
            series[name].append(k)
            series[f"{name}_tau"].append(tau)
            series[f"{name}_half"].append(half)
        table.add(*row, row[5] / row[2])
    for name in wells:
        series[f"slope_{name}"] = _slope(batches, np.log(series[name]))
        series[f"slope_{name}_tau"] = _slope(batches, np.log(series[f"{name}_tau"]))
        series[f"predicted_{name}"] = 2 * barrier[name] / (eta * sigma**2)
    table.caption += "; fitted slope of log k against B: " + ", ".join(
        f"{n} {series[f'slope_{n}']:.3f} (diffusion {series[f'slope_{n}_tau']:.3f}; as B grows "
        f"2 dV/(eta sigma^2) = {series[f'predicted_{n}']:.3f}, dV = {barrier[n]:.3f})" for n in wells)
    return table, series


def drift(quick: bool):
    eta, sigma, x0, tol = 0.01, 0.1, 2.0, 0.1
    curvatures = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    paths = 200 if quick else 1000
    table = Table(["a = f''", "1/a", "mean iterations k", "95% half-width", "k eta", "k eta a",
                   "gradient descent k", "log(|x0|/tol)/a"],
                  caption=f"Drift regime: SGD on a/2 x^2 from x0 = {x0:g} until |X_k| < {tol:g} (eta = {eta:g}, "
                          f"sigma = {sigma:g}, {paths} paths)")
    series = {"inv_a": [1 / a for a in curvatures], "k_eta": []}
    for a in curvatures:
        run = simulate_sgd(hjb.make_loss("quadratic", a=a), x0, eta, 10**6, paths, sigma=sigma, seed=31,
                           exit_radius=x0 - tol)
        k, half = run.stats["mean_exit_iteration"], run.stats["mean_exit_iteration_half_width"]
        gd = int(np.ceil(np.log(tol / x0) / np.log(1 - eta * a)))
        table.add(a, 1 / a, k, half, k * eta, k * eta * a, gd, np.log(x0 / tol) / a)
        series["k_eta"].append(k * eta)
    series["order"] = observed_order(series["inv_a"], series["k_eta"])
    table.caption += f"; k eta ~ (1/a)^p with p = {series['order']:.3f} (expected 1)"
    return table, series


BUILDS = {"escape_kramers": kramers, "escape_minimum": minimum, "escape_saddle": saddle,
          "escape_batch": batch_size, "escape_drift": drift}


def _build(item):
    """(stem, table, series, seconds) of one study (module level, so Dask can ship it)."""
    stem, quick = item
    start = time.perf_counter()
    table, series = BUILDS[stem](quick)
    return stem, table, series, time.perf_counter() - start


def _figure(out: dict):
    fig = Figure(figsize=(14.5, 8.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3).ravel()
    k = out["escape_kramers"]
    ax = axes[0]
    beta = np.array(k["beta"])
    ax.semilogy(beta, k["pde"], "o-", label=r"PDE $\tau(-1)$")
    ax.semilogy(beta, k["kramers"], "k--", label="Eyring–Kramers")
    ax.errorbar(beta, k["mc"], yerr=k["mc_half"], fmt="s", ms=4, capsize=3, label="Monte Carlo (99% CI)")
    ax.set(xlabel=r"$\beta$", ylabel=r"mean exit time $\tau$", title="double well: leaving $-1$")
    ax.legend(fontsize="small")
    ax = axes[1]
    ratio, c = np.array(k["ratio"]), beta[-1] * (k["ratio"][-1] - 1)
    ax.plot(1 / beta, ratio, "o-", label=r"$\tau_{PDE}(-1) / \tau_{Kramers}$")
    ax.plot([0, 1 / 16], [1, 1 + c / 16], "k:", label=rf"$1 + {c:.2f}/\beta$")
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.set(xlabel=r"$1/\beta$", ylabel="PDE / Kramers", xlim=(0, None),
           title=rf"$|$ratio$ - 1| \sim \beta^{{-p}}$, $p = {k['rate']:.2f}$ ($\beta \geq 16$)")
    ax.legend(fontsize="small")
    m = out["escape_minimum"]
    ax = axes[2]
    ax.errorbar(m["inv_eta"], m["mean"], yerr=m["half"], fmt="o", capsize=3, label="SGD (95% CI)")
    ax.semilogy(m["inv_eta"], m["diffusion"], "k--", label=r"diffusion $\tau(\beta)/\eta$")
    ax.set_yscale("log")
    ax.set(xlabel=r"$1/\eta$", ylabel="mean exit iteration",
           title=rf"minimum: slope of $\log k$ = {m['slope']:.2f}")
    ax.legend(fontsize="small")
    s = out["escape_saddle"]
    ax = axes[3]
    log_inv = np.log(1 / np.array(s["eta"]))
    ax.errorbar(log_inv, s["k_eta"], yerr=s["half"], fmt="o", capsize=3, label=r"SGD $k\eta$ (95% CI)")
    ax.plot(log_inv, s["linear"], "k--", label="linearised prediction")
    ax.plot(log_inv, s["pde"], "s:", ms=4, label=r"PDE $\tau(0)$")
    ax.set(xlabel=r"$\log(1/\eta)$", ylabel=r"$k\,\eta$",
           title=rf"strict saddle: slope {s['slope']:.2f} ($\eta \leq 0.03$)")
    ax.legend(fontsize="small")
    b = out["escape_batch"]
    ax = axes[4]
    for name in ("sharp", "flat"):
        ax.errorbar(b["B"], b[name], yerr=b[f"{name}_half"], fmt="o-", capsize=3, label=f"{name} minimum")
    ax.set_yscale("log")
    ax.set(xlabel="batch size $B$", ylabel="mean exit iteration", title="equal depths: sharp vs flat")
    ax.legend(fontsize="small")
    d = out["escape_drift"]
    ax = axes[5]
    ax.loglog(d["inv_a"], d["k_eta"], "o-", label=r"SGD $k\,\eta$")
    ax.loglog(d["inv_a"], np.log(20) * np.array(d["inv_a"]), "k--", label=r"$\log(20)/a$")
    ax.set_xticks(d["inv_a"], [f"{v:g}" for v in d["inv_a"]], minor=False)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=r"$1/f''(0) = 1/a$", ylabel=r"time $k\,\eta$ to reach $|X| < 0.1$",
           title=rf"drift regime: order {d['order']:.2f}")
    ax.legend(fontsize="small")
    return fig


def main(argv=None):
    parser = script_parser(__doc__, out="results/escape")
    parser.epilog = "--quick: fewer paths and steps, Monte Carlo of the diffusion for beta <= 8"
    args = parser.parse_args(argv)
    out = {}
    for stem, table, series, seconds in parallel_map(_build, [(stem, args.quick) for stem in BUILDS],
                                                     args.workers, args.scheduler):
        print(table.emit(os.path.join(args.out, stem)))
        print(f"\n({stem}: {seconds:.1f} s)\n")
        out[stem] = series
    print(f"figure: {write_figure(_figure(out), os.path.join(args.out, 'escape.png'))}")


if __name__ == "__main__":
    main()
