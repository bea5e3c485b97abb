"""Kind ``sgd``: SGD paths X_{k+1} = X_k - eta (grad f(X_k) + sigma xi_k / sqrt(B)) (SPEC
sections 7 and 10).  Stores ``X`` (the last iterate of every path) and, with
``exit_radius``, ``exit_iteration`` (the first k with |X_k - x0| > exit_radius, -1 for
a path that never left; a path stops where it left), with the means and their 95%
confidence intervals as attributes, and beta = 2B/(eta sigma^2), the inverse
temperature of the approximating diffusion.
"""
from __future__ import annotations

import numpy as np

from ...limits import Estimate
from ...output.plots import members, pretty
from ...output.result import Result
from ...output.summary import fmt
from ...points import as_point
from ...stochastic.confidence import mean_interval
from ...stochastic.sgd import (DEFAULT_BATCH, DEFAULT_PATHS, DEFAULT_SEED, DEFAULT_SIGMA, NOISE_BLOCK_BYTES,
                               memory_estimate, simulate_sgd)
from ..build import build_loss
from ..kind import KindSpec
from ..schema import MODEL_NO_GAMMA, Key, at_least, between, non_negative, positive


def _check(data):
    as_point(data["solve"]["x0"], data["model"]["dim"], "solve.x0")


def run(data, on_step):
    s = data["solve"]
    loss = build_loss(data)
    paths = simulate_sgd(loss, s["x0"], s["eta"], s["iterations"], s["paths"], batch=s["batch"],
                         sigma=s["sigma"], seed=s["seed"], exit_radius=s.get("exit_radius"), on_step=on_step)
    X = paths.X
    with np.errstate(over="ignore", invalid="ignore"):
        mean_f, half_f = mean_interval(loss.value(X))
    result = Result("sgd", attrs={
        "eta": s["eta"], "batch": s["batch"], "sigma": s["sigma"], "iterations": s["iterations"],
        "iterations_run": paths.iterations_run, "paths": s["paths"], "seed": s["seed"], "beta": paths.beta,
        "mean_X": X.mean(axis=0) if loss.dim > 1 else float(X.mean()),
        "mean_f_X": mean_f, "mean_f_X_half_width": half_f})
    result.add("X", X[:, 0] if loss.dim == 1 else X, ("path",) if loss.dim == 1 else ("path", "component"))
    if paths.exit_iteration is not None:
        result.attrs["exit_radius"] = s["exit_radius"]
        result.attrs.update(paths.stats)
        result.add("exit_iteration", paths.exit_iteration, ("path",))
    # a mean over no path (nobody left) or a half-width from one path is undefined: not stored
    result.attrs = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in result.attrs.items()}
    return result


def _sweep_axis(result: Result):
    """(axis label, symbol, values) of the swept key against which to plot the mean exit iteration."""
    key = result.attrs.get("sweep")
    subs = [sub for _, sub in members(result)]
    if key == "eta":
        return r"$1/\eta$", r"/\eta", np.array([1.0 / sub.attrs["eta"] for sub in subs])
    if key == "batch":
        return "batch size $B$", r"\,B", np.array([sub.attrs["batch"] for sub in subs], float)
    return None, None, None


def picture(fig, result: Result):
    """Histogram of X (hist2d in d >= 2); with exits, their distribution on a log axis and, for a
    sweep over eta (or batch), the mean exit iteration against 1/eta (or B) on a log-y axis."""
    entries = members(result)
    exits = [(label, sub) for label, sub in entries if "exit_iteration" in sub.data]
    label, symbol, xs = _sweep_axis(result)
    trend = bool(exits) and xs is not None and len(entries) > 1
    axes = np.atleast_1d(fig.subplots(1, 1 + bool(exits) + trend))
    ax = axes[0]
    for name, sub in entries:
        X = sub["X"]
        if X.ndim == 1:
            ax.hist(X, bins="auto", density=True, histtype="step", lw=1.5, label=pretty(name) or None)
            ax.set_xlabel(r"$X$ (last iterate; where it left, for a path that left)" if exits else r"$X$ (last iterate)")
            ax.set_ylabel("density")
        else:
            ax.hist2d(X[:, 0], X[:, 1], bins=60, density=True, cmap="viridis")
            ax.set_xlabel(r"$X_1$ (last iterate; where it left, for a path that left)" if exits else r"$X_1$ (last iterate)")
            ax.set_ylabel(r"$X_2$")
            ax.set_title(f"{name} (first member)" if len(entries) > 1 else "last iterates", fontsize="medium")
            break
    if len(entries) > 1 and X.ndim == 1:
        ax.legend(fontsize="small")
    if exits:
        ax = axes[1]
        top = max(int(sub["exit_iteration"].max()) for _, sub in exits)
        bins = np.geomspace(1, max(top, 2) + 1, 40)
        for name, sub in exits:
            k = sub["exit_iteration"]
            ax.hist(k[k >= 0], bins=bins, histtype="step", lw=1.5,
                    label=f"{pretty(name)} ({sub.attrs['censored']} never left)".strip())
        ax.set_xscale("log")
        ax.set_xlabel(r"exit iteration $k$ (first $|X_k - x_0| > r$)")
        ax.set_ylabel("paths")
        ax.legend(fontsize="small")
    if trend:
        ax = axes[2]
        subs = [sub for _, sub in entries]
        mean = np.array([sub.attrs.get("mean_exit_iteration", np.nan) for sub in subs])
        half = np.array([sub.attrs.get("mean_exit_iteration_half_width", np.nan) for sub in subs])
        ax.errorbar(xs, mean, yerr=np.nan_to_num(half), fmt="o", capsize=3, label="mean exit iteration (95% CI)")
        ok = np.isfinite(mean) & (mean > 0)
        if ok.sum() >= 2:
            slope, icpt = np.polyfit(xs[ok], np.log(mean[ok]), 1)
            grid = np.linspace(xs[ok].min(), xs[ok].max(), 50)
            ax.plot(grid, np.exp(icpt + slope * grid), "k--", lw=1,
                    label=rf"exponential fit $\log k = {icpt:.2f} + {slope:.3g}{symbol}$")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("mean exit iteration")
        ax.legend(fontsize="small")


def headline(result: Result) -> list:
    a = result.attrs
    lines = []
    if "X" in result.data:
        X = result["X"]
        lines.append(f"{X.shape[0]} paths, eta = {a['eta']:g}, B = {a['batch']}, sigma = {a['sigma']:g} "
                     f"(beta = 2B/(eta sigma^2) = {a['beta']:.4g}); mean X = {fmt(np.round(X.mean(axis=0), 6).tolist())}")
    if "exit_iteration" in result.data:
        lines.append(f"{100 * a['exit_fraction']:.1f}% left |X - x0| > {a['exit_radius']:g} within "
                     f"{a['iterations']} iterations (95% CI {100 * a['exit_fraction_low']:.1f}-"
                     f"{100 * a['exit_fraction_high']:.1f}%)")
        if a["exit_fraction"] > 0:
            tail = (f"; {a['censored']} censored, so the true mean is at least "
                    f"{a['mean_exit_iteration_lower_bound']:.6g}") if a["censored"] else ""
            half = a.get("mean_exit_iteration_half_width", float("nan"))
            lines.append(f"mean exit iteration {a['mean_exit_iteration']:.6g} +- {half:.2g} "
                         f"(95% CI, over the paths that left){tail}")
    return lines


def memory(data) -> Estimate:
    s, d = data["solve"], data["model"]["dim"]
    block = max(1, min(s["iterations"], NOISE_BLOCK_BYTES // (8 * s["paths"] * d)))
    need = memory_estimate(s["paths"], d, "exit_radius" in s, block)
    return Estimate(need, f"SGD with {s['paths']:,} paths in d = {d}", "solve.paths")


SPECS = [KindSpec("sgd", datasets=("X",), check=_check, runner=run, plot=picture, headline=headline, model=MODEL_NO_GAMMA,
                  memory=memory, solve={
    "x0": Key((int, float, list), required=True),
    "eta": Key(float, required=True, check=positive, sweep=True),
    "batch": Key(int, default=DEFAULT_BATCH, check=at_least(1), sweep=True),
    "sigma": Key(float, default=DEFAULT_SIGMA, check=non_negative),
    "iterations": Key(int, required=True, check=at_least(1)),
    "paths": Key(int, default=DEFAULT_PATHS, check=at_least(1)),
    "seed": Key(int, default=DEFAULT_SEED, check=between(0, 2**63 - 1)),
    "exit_radius": Key(float, check=positive),
})]
