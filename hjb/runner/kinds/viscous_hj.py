"""Kind ``viscous_hj``: u(x, t) of the viscous HJ equation of local entropy, with its
Cole-Hopf reference (SPEC sections 5 and 10).

[solve] keys: ``beta``, ``t`` (both sweepable), ``courant`` (a fraction of the
monotonicity bound of the Godunov step), ``scheme`` ("filtered", second order, the
default, or "monotone", the first-order reference) and ``reference`` (store Cole-Hopf).
The [model] is dim and loss only.
"""
from __future__ import annotations

import numpy as np

from ...entropy import cole_hopf_whole_space, whole_space_memory
from ...limits import Estimate
from ...output.plots import image, members, pretty
from ...output.result import Result
from ...output.summary import value_extremes
from ...solvers.viscous import DEFAULT_COURANT, DEFAULT_SCHEME, SCHEMES, memory_estimate as viscous_memory, solve_viscous_hj
from ..build import build_grid, build_loss, grid_result
from ..kind import KindSpec
from ..schema import BETA_MAX, BETA_MIN, MODEL_NO_GAMMA, Key, in_unit_interval, non_negative, one_of, positive_within


def run(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    sol = solve_viscous_hj(loss, grid, s["t"], beta=s["beta"], courant=s["courant"], on_step=on_step,
                           scheme=s["scheme"])
    result = grid_result("viscous_hj", sol.value, [grid],
                         {"beta": sol.beta, "t": sol.t, "dt": sol.dt, "steps": sol.steps, "scheme": s["scheme"]}, long_name="solution u(x, t) of the viscous HJ equation")
    if s["reference"]:
        # Cole-Hopf over R^d: the exact solution that the scheme approximates; its walls
        # disturb a layer next to them, hence also the difference on the inner half of the box
        exact = cole_hopf_whole_space(loss, s["beta"], grid, s["t"])
        result.add("cole_hopf", exact, result.dims["value"])
        diff = np.abs(exact - sol.value)
        centre, half = 0.5 * (grid.lower + grid.upper), 0.5 * (grid.upper - grid.lower)
        inner = np.all(np.abs(grid.nodes() - centre) <= 0.5 * half, axis=-1)
        result.attrs["max_difference_cole_hopf"] = float(np.max(diff))
        result.attrs["max_difference_cole_hopf_inner_half"] = float(np.max(diff[inner]))
    return result


def _line_panels(fig, result: Result, entries):
    """d = 1: u(x, t) per member with Cole-Hopf dashed over it, and |u - Cole-Hopf| on a log
    axis (the inner half of the box, where the walls do not reach, between dotted lines);
    hopf_lax: u and its gradient."""
    reference = any("cole_hopf" in sub.data for _, sub in entries)
    gradient = any("gradient" in sub.data for _, sub in entries)
    axes = np.atleast_1d(fig.subplots(1, 1 + (reference or gradient)))
    left = axes[0]
    for k, (label, sub) in enumerate(entries):
        x = sub.coords[sub.dims["value"][0]]
        name = "finite differences" if result.kind == "viscous_hj" else ""
        text = ", ".join(t for t in (f"$u(x, t)$ {name}".strip(), pretty(label)) if t)
        left.plot(x, sub["value"], color=f"C{k}", lw=2.2, alpha=0.8, label=text)
        if "cole_hopf" in sub.data:
            left.plot(x, sub["cole_hopf"], "k--", lw=1.0, label="Cole–Hopf (exact)" if k == 0 else None)
    left.set(xlabel="$x$", ylabel="$u(x, t)$",
             title="viscous HJ against Cole–Hopf" if reference else "Hopf–Lax envelope $u(x, t)$")
    left.legend(fontsize="small")
    if len(axes) == 1:
        return
    right, identical = axes[1], []
    for k, (label, sub) in enumerate(entries):
        x = sub.coords[sub.dims["value"][0]]
        if reference and "cole_hopf" in sub.data:
            error = np.abs(sub["value"] - sub["cole_hopf"])
            if not np.any(error > 0):
                identical.append(pretty(label) or "u")
                continue
            right.semilogy(x, np.where(error > 0, error, np.nan), color=f"C{k}", lw=1.2,
                           label=pretty(label) or "finite differences")
        elif not reference and "gradient" in sub.data:
            right.plot(x, sub["gradient"][..., 0], color=f"C{k}", lw=1.2, label=pretty(label) or None)
    if reference:
        lo, hi = x[0], x[-1]
        for edge in (0.75 * lo + 0.25 * hi, 0.25 * lo + 0.75 * hi):
            right.axvline(edge, color="gray", ls=":", lw=0.8)
        right.set(xlabel="$x$", ylabel=r"$|u - u_{\mathrm{Cole–Hopf}}|$",
                  title="error (dotted: the inner half of the box)"
                  + (f"; {', '.join(identical)}: none" if identical else ""))
    else:
        right.set(xlabel="$x$", ylabel=r"$\partial_x u(x, t)$",
                  title="its gradient: jumps at the kinks")
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize="small")


def picture(fig, result: Result):
    """u(x, t), one curve per member, with the Cole-Hopf reference and the error when stored
    (viscous_hj), or the gradient of the envelope (hopf_lax); d >= 2: images."""
    entries = members(result)
    last_label, last = entries[-1]
    if last["value"].ndim == 1:
        _line_panels(fig, result, entries)
        return
    axes = np.atleast_1d(fig.subplots(1, 1 + ("cole_hopf" in last.data)))
    image(fig, axes[0], last, "value", label="$u(x, t)$")
    axes[0].set_title(f"$u(x, t)$ {pretty(last_label)}".strip(), fontsize="medium")
    if "cole_hopf" in last.data:
        error = Result(last.kind, coords=last.coords)
        error.add("error", np.log10(np.maximum(np.abs(last["value"] - last["cole_hopf"]), 1e-16)), last.dims["value"])
        image(fig, axes[1], error, "error", cmap="magma", label=r"$\log_{10}|u - u_{\mathrm{Cole–Hopf}}|$")
        axes[1].set_title("error against Cole–Hopf", fontsize="medium")


def cole_hopf_inner(sub: Result):
    """Cole-Hopf on the inner half of the box (NaN elsewhere: the walls disturb a layer next
    to them), when stored: the reference of a refinement study."""
    if "cole_hopf" not in sub.data:
        return None
    axes = [sub.coords[d] for d in sub.dims["value"]]
    inner = np.ones(sub["cole_hopf"].shape, bool)
    for k, a in enumerate(axes):
        centre, half = 0.5 * (a[0] + a[-1]), 0.5 * (a[-1] - a[0])
        shape = [1] * len(axes)
        shape[k] = len(a)
        inner &= (np.abs(a - centre) <= 0.5 * half).reshape(shape)
    return np.where(inner, sub["cole_hopf"], np.nan)


def memory(data) -> Estimate:
    """The solve, or the Cole-Hopf reference on the padded grid after it (f bounded on a coarse sample)."""
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    need = viscous_memory(grid, s["beta"])
    if s["reference"] and s["t"] > 0:
        f_max = float(np.max(loss.value(grid.sample())))
        need = max(need, 24.0 * grid.size + whole_space_memory(loss, s["beta"], grid, s["t"], f_max))
    return Estimate(need, f"a viscous-HJ grid of {grid.size:,} nodes", "grid.x")


SPECS = [KindSpec("viscous_hj", datasets=("value",), grids=("x",), model=MODEL_NO_GAMMA, runner=run, plot=picture,
                  memory=memory,
                  headline=value_extremes, reference=cole_hopf_inner, solve={
                      "beta": Key(float, required=True, check=positive_within(BETA_MIN, BETA_MAX), sweep=True),
                      "t": Key(float, required=True, check=non_negative, sweep=True),
                      "courant": Key(float, default=DEFAULT_COURANT, check=in_unit_interval),
                      "scheme": Key(str, default=DEFAULT_SCHEME, check=one_of(*SCHEMES)),
                      "reference": Key(bool, default=True),
                  })]
