"""Kind ``viscous_hj``: u(x, t) of the viscous HJ equation of local entropy, with its
Cole-Hopf reference (SPEC sections 5 and 10).

[solve] keys: ``beta``, ``t`` (both sweepable), ``courant`` (a fraction of the
monotonicity bound of the Godunov step) and ``reference`` (store Cole-Hopf).
The [model] is dim and loss only.
"""
from __future__ import annotations

import numpy as np

from ...entropy import cole_hopf_whole_space
from ...output.plots import generic, line, members
from ...output.result import Result
from ...output.summary import value_extremes
from ...solvers.viscous import DEFAULT_COURANT, solve_viscous_hj
from ..build import build_grid, build_loss, grid_result
from ..kind import KindSpec
from ..schema import BETA_MAX, BETA_MIN, MODEL_NO_GAMMA, Key, in_unit_interval, non_negative, positive_within


def run(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    sol = solve_viscous_hj(loss, grid, s["t"], beta=s["beta"], courant=s["courant"], on_step=on_step)
    result = grid_result("viscous_hj", sol.value, [grid],
                         {"beta": sol.beta, "t": sol.t, "dt": sol.dt, "steps": sol.steps})
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


def picture(fig, result: Result):
    """u(x, t), one curve per member (the Cole-Hopf reference dashed when stored)."""
    entries = members(result)
    if result.kind == "hopf_lax" or entries[-1][1]["value"].ndim != 1:
        generic(fig, result)
    else:
        ax = fig.subplots()
        for label, sub in entries:
            line(ax, sub, "value", label)
            if "cole_hopf" in sub.data:
                ax.plot(sub.coords[sub.dims["value"][0]], sub["cole_hopf"], "k--", lw=0.8,
                        label="Cole-Hopf" if label == entries[0][0] else None)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in fig.axes:
        if ax.get_ylabel().startswith("value"):
            ax.set_ylabel(ax.get_ylabel().replace("value", "u(x, t)", 1))


SPECS = [KindSpec("viscous_hj", datasets=("value",), grids=("x",), model=MODEL_NO_GAMMA, runner=run, plot=picture,
                  headline=value_extremes, solve={
                      "beta": Key(float, required=True, check=positive_within(BETA_MIN, BETA_MAX), sweep=True),
                      "t": Key(float, required=True, check=non_negative, sweep=True),
                      "courant": Key(float, default=DEFAULT_COURANT, check=in_unit_interval),
                      "reference": Key(bool, default=True),
                  })]
