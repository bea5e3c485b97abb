"""Kind ``eps_hjb``: V^eps(0, x, y) of the eps-HJB equation (SPEC sections 2 and 10).

[solve] keys: ``T``, ``eps`` (sweepable), optional ``dt`` or ``courant`` (dt as a
multiple of the CFL step of the slow part), ``y_scheme`` (the rates of the fast
generator), ``interpolation`` ("cubic": filtered against linear, the default, or
"linear": the monotone reference), ``splitting`` ("corrected": Lie with the filtered
corrections of hjb.operators.averaging_correction, the default with cubic feet; "lie")
and ``snapshots`` (time slices kept, for the feedback of kind ``sde``).
"""
from __future__ import annotations

import warnings

import numpy as np

from ...errors import InputError, NonFiniteError
from ...operators.generator import SCHEMES
from ...output.plots import case_data, colour_map, image, members, pretty, symmetric_limits
from ...output.rates import loglog_rate
from ...output.result import Result
from ...output.summary import value_extremes
from ...limits import Estimate
from ...solvers.effective import solve_effective
from ...solvers.effective_memory import memory_estimate as effective_memory
from ...solvers.eps_hjb import (DEFAULT_INTERPOLATION, INTERPOLATIONS, SPLITTINGS, default_splitting, memory_estimate,
                                solve_eps_hjb)
from ..build import build_grid, build_model, grid_result
from ..kind import KindSpec
from ..schema import Key, at_least, one_of, positive, positive_within


def _y_inside_x(data):
    """The slow drift -u gamma (x - y) points into the x-box only if the y-box lies inside it."""
    gx, gy = build_grid(data, "x"), build_grid(data, "y")
    if not gx.contains(gy):
        box = lambda g: " x ".join(f"[{a.lower:g}, {a.upper:g}]" for a in g.axes)  # noqa: E731
        raise InputError("grid.y", f"the y-box {box(gy)} must lie inside the x-box {box(gx)} "
                         "(else characteristics leave the x-box)")


def run(data, on_step):
    s = data["solve"]
    model, gx, gy = build_model(data), build_grid(data, "x"), build_grid(data, "y")
    options = {k: s[k] for k in ("dt", "courant", "splitting") if k in s}
    sol = solve_eps_hjb(model, gx, gy, s["T"], s["eps"], y_scheme=s["y_scheme"], snapshots=s["snapshots"],
                        on_step=on_step, interpolation=s["interpolation"], **options)
    result = grid_result("eps_hjb", sol.value, [gx, gy],
                         {"eps": sol.eps, "T": sol.T, "dt": sol.dt, "steps": sol.steps,
                          "interpolation": s["interpolation"], "splitting": sol.splitting}, long_name="value function V^eps(0, x, y)")
    if sol.snapshots is not None:
        result.coords["time"] = sol.times
        result.add("snapshots", sol.snapshots, ("time",) + result.dims["value"])
    try:
        limit = _effective_value(model, gx, s["T"])
    except (InputError, NonFiniteError):       # the limit is an extra: never the reason a run fails
        limit = None
    if limit is not None:           # what V^eps tends to: the picture draws V^eps - v
        result.add("effective_value", limit, tuple(gx.coordinate_names))
        result.describe("effective_value", "effective value v(0, x), the limit of V^eps as eps -> 0")
    return result


def _effective_value(model, gx, T):
    """v(0, x), the limit of V^eps (SPEC section 4), on the x-grid: in d = 1 when mu_x is
    explicit (a potential); the d >= 2 effective solve would cost more than V^eps itself."""
    if model.dim != 1 or model.potential is None:
        return None
    return solve_effective(model, gx, T).value


def _limit(sub: Result):
    """v(0, x) of a member: stored, else solved from its case (d = 1; None if impossible)."""
    if "effective_value" in sub.data:
        return sub["effective_value"]
    data = case_data(sub)
    try:
        data["model"], data["_checked"] = {"dim": 1, "controls": [0.0, 1.0], **data["model"]}, True
        if data["model"]["dim"] != 1:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = _effective_value(build_model(data), build_grid(data, "x"), float(data["solve"]["T"]))
        return v if v is not None and v.shape == sub["value"].shape[:1] else None
    except Exception:            # an old or foreign file: draw V^eps without its limit
        return None


def _gamma(sub: Result) -> float:
    try:
        return float(case_data(sub)["model"]["gamma"])
    except (KeyError, TypeError, ValueError):
        return 1.0


def _diagonal(x, y, V, offset):
    """V(x, x + offset) by linear interpolation in y (NaN where x + offset leaves the y-box)."""
    return np.array([np.interp(xi + offset, y, row, left=np.nan, right=np.nan) for xi, row in zip(x, V)])


def _single(fig, sub: Result):
    """V^eps against v, V^eps - v (its mean and range over y), and the y-dependence
    V^eps - <V^eps>_y as an image and along the lines y = x + k sigma."""
    x, y = (sub.coords[d] for d in sub.dims["value"])
    V, v = sub["value"], _limit(sub)
    mean = V.mean(axis=1)
    fig.set_size_inches(11, 8.5)
    (a, b), (c, d) = fig.subplots(2, 2)
    a.fill_between(x, V.min(axis=1), V.max(axis=1), color="C0", alpha=0.3, lw=0, label=r"range over $y$")
    a.plot(x, mean, "C0", lw=1.5, label=r"$V^\varepsilon(0, x, y)$, mean over $y$")
    if v is not None:
        a.plot(x, v, "k--", lw=1.2, label="$v(0, x)$, effective problem")
    a.set(xlabel="$x$", ylabel="value at $t = 0$",
          title=r"$V^\varepsilon$ against its limit $v$" if v is not None else r"$V^\varepsilon(0, x, y)$")
    a.legend(fontsize="small")
    if v is not None:
        b.fill_between(x, V.min(axis=1) - v, V.max(axis=1) - v, color="C3", alpha=0.3, lw=0, label=r"range over $y$")
        b.plot(x, mean - v, "C3", lw=1.5, label=r"mean over $y$")
        b.plot(x, _diagonal(x, y, V, 0.0) - v, "k:", lw=1.2, label="on the diagonal $y = x$")
        b.axhline(0.0, color="gray", lw=0.5)
        b.set(xlabel="$x$", ylabel=r"$V^\varepsilon(0, x, y) - v(0, x)$", title=r"the error $V^\varepsilon - v$")
        b.legend(fontsize="small")
    else:
        b.text(0.5, 0.5, "v(0, x) unknown for this model", ha="center", transform=b.transAxes)
        b.set(xlabel="$x$", ylabel=" ")
    spread = V - mean[:, None]
    name = r"V^\varepsilon - \langle V^\varepsilon\rangle_y"
    colour_map(fig, c, x, y, spread, rf"${name}$", cmap="RdBu_r", limits=symmetric_limits(spread),
               title=r"dependence on $y$ (dotted: $y = x$)")
    c.plot(x, x, "k:", lw=0.8)
    c.set(xlabel="$x$", ylabel="$y$", ylim=(y[0], y[-1]))
    sigma = 1.0 / np.sqrt(_gamma(sub))
    for k in (-2, -1, 0, 1, 2):
        text = "$y = x$" if k == 0 else rf"$y = x {'+' if k > 0 else '-'} {abs(k) if abs(k) > 1 else ''}\sigma$"
        d.plot(x, _diagonal(x, y, V, k * sigma) - mean, lw=1.2, color=f"C{k + 2}", label=text)
    d.axhline(0.0, color="gray", lw=0.5)
    d.set(xlabel="$x$", ylabel=rf"${name}$", title=rf"across the Gibbs window, $\sigma = \gamma^{{-1/2}} = {sigma:.2g}$")
    d.yaxis.set_label_position("right")          # away from the colour bar of the panel on its left
    d.yaxis.tick_right()
    d.legend(fontsize="small", ncol=2)


def _sweep(fig, entries):
    """An eps sweep in d = 1: sup |V^eps - v| against eps (fitted rate) and the profiles."""
    a, b, c = fig.subplots(1, 3)
    eps = np.array([float(sub.attrs.get("eps", np.nan)) for _, sub in entries])
    limits = [_limit(sub) for _, sub in entries]
    known = all(v is not None for v in limits)
    smallest = entries[int(np.nanargmin(eps))][1]["value"].mean(axis=1)
    refs = limits if known else [smallest] * len(entries)
    name = "v" if known else r"V^{\varepsilon_{\min}}"
    errors = [float(np.max(np.abs(sub["value"] - r[:, None]))) for (_, sub), r in zip(entries, refs)]
    loglog_rate(a, eps, errors, rf"$\sup_{{x,y}}\,|V^\varepsilon - {name}|$", what="rate")
    loglog_rate(a, eps, [float(np.max(np.abs(sub["value"].mean(axis=1) - r))) for (_, sub), r in zip(entries, refs)],
                rf"$\sup_x\,|\langle V^\varepsilon\rangle_y - {name}|$", what="rate", marker="s")
    a.set(xlabel=r"$\varepsilon$", ylabel="max-norm difference", title=rf"$V^\varepsilon \to {name}$")
    a.legend(fontsize="small")
    x = entries[0][1].coords[entries[0][1].dims["value"][0]]
    if known:
        b.plot(x, limits[0], "k--", lw=1.5, label="$v(0, x)$")
    for k, ((label, sub), r) in enumerate(zip(entries, refs)):
        b.plot(x, sub["value"].mean(axis=1), color=f"C{k}", lw=1.2, label=pretty(label))
        c.plot(x, sub["value"].mean(axis=1) - r, color=f"C{k}", lw=1.2, label=pretty(label))
    b.set(xlabel="$x$", ylabel=r"$\langle V^\varepsilon(0, x, \cdot)\rangle_y$", title="profiles (mean over $y$)")
    c.axhline(0.0, color="gray", lw=0.5)
    c.set(xlabel="$x$", ylabel=rf"$\langle V^\varepsilon\rangle_y - {name}$", title=rf"$V^\varepsilon - {name}$")
    b.legend(fontsize="small")
    c.legend(fontsize="small")


def _picture_2d(fig, entries):
    """d >= 2: V^eps at the middle y node, its spread over y (0 in the limit) and, for a
    sweep, that spread against eps."""
    label, sub = entries[-1]
    axes = np.atleast_1d(fig.subplots(1, 2 + (len(entries) > 1)))
    image(fig, axes[0], sub, "value")
    axes[0].set_title(f"{axes[0].get_title()} {pretty(label)}".strip(), fontsize="medium")
    dim = len(sub.dims["value"]) // 2

    def spread(s):
        flat = s["value"].reshape(s["value"].shape[:dim] + (-1,))
        return flat.max(axis=-1) - flat.min(axis=-1)

    osc = Result(sub.kind, coords=sub.coords)
    osc.add("spread", spread(sub), sub.dims["value"][:dim])
    image(fig, axes[1], osc, "spread", cmap="magma", label=r"$\max_y V^\varepsilon - \min_y V^\varepsilon$")
    axes[1].set_title(r"dependence on $y$ (vanishes as $\varepsilon \to 0$)", fontsize="medium")
    if len(entries) > 1:
        eps = [float(s.attrs.get("eps", np.nan)) for _, s in entries]
        loglog_rate(axes[2], eps, [float(spread(s).max()) for _, s in entries],
                    r"$\sup_x\,(\max_y V^\varepsilon - \min_y V^\varepsilon)$", what="rate")
        axes[2].set(xlabel=r"$\varepsilon$", ylabel="spread over $y$", title=r"$V^\varepsilon \to v$")
        axes[2].legend(fontsize="small")


def picture(fig, result: Result):
    """d = 1: V^eps against its limit v(0, x), V^eps - v over (x, y) and along y = x + k sigma;
    an eps sweep: sup |V^eps - v| against eps with the fitted rate, and the profiles;
    d >= 2: V^eps at the middle y and its spread over y."""
    entries = members(result)
    if len(entries[-1][1].dims["value"]) // 2 != 1:
        _picture_2d(fig, entries)
    elif len(entries) > 1:
        _sweep(fig, entries)
    else:
        _single(fig, entries[0][1])


def memory(data) -> Estimate:
    """The peak of the solve, or (d = 1) of the effective value solved after it, with V^eps held."""
    s = data["solve"]
    model, gx, gy = build_model(data), build_grid(data, "x"), build_grid(data, "y")
    splitting = s.get("splitting") or default_splitting(s["interpolation"])
    need = memory_estimate(model, gx, gy, s["snapshots"], splitting, s["interpolation"])
    if model.dim == 1 and model.potential is not None:
        need = max(need, 8.0 * gx.size * gy.size * (1 + s["snapshots"]) + effective_memory(model, gx))
    return Estimate(need, f"an eps-HJB grid of {gx.size * gy.size:,} nodes", "grid")


SPECS = [KindSpec("eps_hjb", datasets=("value",), grids=("x", "y"), check=_y_inside_x, runner=run, plot=picture,
                  memory=memory,
                  headline=value_extremes, solve={
                      "T": Key(float, required=True, check=positive),
                      "eps": Key(float, required=True, check=positive_within(1e-12, 1e6), sweep=True),
                      "dt": Key(float, check=positive),
                      "courant": Key(float, check=positive),
                      "y_scheme": Key(str, default="fitted", check=one_of(*SCHEMES)),
                      "interpolation": Key(str, default=DEFAULT_INTERPOLATION, check=one_of(*INTERPOLATIONS)),
                      "splitting": Key(str, check=one_of(*SPLITTINGS)),
                      "snapshots": Key(int, default=0, check=at_least(0)),
                  })]
