"""Kinds ``effective`` and ``egd``: v(0, x) of the effective HJ equation, and the value of
controlled entropic gradient descent (SPEC sections 4 and 10).

[solve] keys: ``T`` (sweepable), ``courant`` (in (0, 1]: the explicit upwind step),
``resolution`` (extended-control directions in d >= 2) and ``scheme`` ("filtered": WENO5 /
SSP-RK3 capped by the filter, high order where v is smooth; "monotone": the first-order
reference); defaults from the solver.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...hbar.velocities import unit_directions
from ...output.plots import case_data, image, legend, members, pretty
from ...output.result import Result
from ...reference.reachable import reachable_value
from ...output.summary import value_extremes
from ...limits import Estimate
from ...solvers.effective import (DEFAULT_COURANT, DEFAULT_RESOLUTION, DEFAULT_SCHEME, SCHEMES, memory_estimate,
                                  solve_effective)
from ..build import build_grid, build_model, grid_result
from ..kind import KindSpec
from ..schema import Key, at_least, in_unit_interval, one_of, positive


def _runner(extended: bool):
    def run(data, on_step):
        s = data["solve"]
        model, gx = build_model(data), build_grid(data, "x")
        sol = solve_effective(model, gx, s["T"], extended=extended, courant=s["courant"],
                              resolution=s["resolution"], scheme=s["scheme"], on_step=on_step)
        result = grid_result(data["kind"], sol.value, [gx],
                             {"T": sol.T, "dt": sol.dt, "steps": sol.steps, "extended": extended,
                              "scheme": sol.scheme},
                             long_name="effective value v(0, x)" if extended else
                             "value of controlled entropic gradient descent")
        result.add("velocities", sol.velocities, tuple(gx.coordinate_names) + ("candidate", "component"))
        result.describe("velocities", "averaged velocities of the candidate controls: the constant controls "
                        "u in U in increasing order" + (", then the bang-bang control of each direction "
                                                        "(hjb.hbar.velocities.unit_directions)" if extended else ""),
                        coordinates="candidate_control candidate_direction" if extended else "candidate_control")
        add_candidates(result, model, extended, s["resolution"])
        return result
    return run


def add_candidates(result: Result, model, extended: bool, resolution: int) -> None:
    """What each candidate of the velocities is: ``candidate_control``, the constant control u
    (NaN for a bang-bang control), and with ``extended`` ``candidate_direction``, the direction
    theta of a bang-bang control (NaN for a constant one); the velocities name them as coordinates."""
    controls = np.asarray(model.control_values, float)
    directions = unit_directions(model.dim, resolution) if extended else np.zeros((0, model.dim))
    result.add("candidate_control", np.r_[controls, np.full(len(directions), np.nan)], ("candidate",))
    result.describe("candidate_control", "constant control u of the candidate (NaN: a bang-bang control)")
    if not extended:                    # entropic gradient descent: constant controls only
        return
    result.add("candidate_direction", np.r_[np.full((len(controls), model.dim), np.nan), directions],
               ("candidate", "component"))
    result.describe("candidate_direction", "direction theta of the candidate's bang-bang control, which takes "
                    "u_max where (y - x) . theta < 0 and so moves against theta (NaN: a constant control)")


def _case_model(sub: Result):
    """(validated-looking case data, model) of a result, or (data, None) if it cannot be rebuilt."""
    data = case_data(sub)
    try:
        data["model"], data["_checked"] = {"dim": 1, "controls": [0.0, 1.0], **data["model"]}, True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return data, build_model(data)
    except Exception:            # an old or foreign file, a loss that no longer imports
        return data, None


def exact_value(sub: Result):
    """v(0, x) = min of g over the reachable interval [x_L(T), x_R(T)] (SPEC section 9) on the
    grid of ``sub``, in d = 1; None otherwise (the refinement picture's reference)."""
    data, model = _case_model(sub)
    if model is None or model.dim != 1 or sub["value"].ndim != 1:
        return None
    return reachable_value(model, sub.coords[sub.dims["value"][0]], float(data["solve"]["T"]))


def picture(fig, result: Result):
    """The value (v(0, x), or the value of entropic gradient descent) beside the terminal cost
    g = f, one curve per member, and the reachable averaged velocities."""
    entries = members(result)
    last = entries[-1][1]
    symbol = r"$v(0, x)$" if result.kind == "effective" else r"$\mathcal{V}(x)$"
    left, right = fig.subplots(1, 2)
    if last["value"].ndim == 1:
        x = last.coords[last.dims["value"][0]]
        _, model = _case_model(last)
        if model is not None:
            left.plot(x, model.g(x[:, None]), ":", color="gray", lw=1.2, label="$g = f$ (terminal cost)")
        for k, (label, sub) in enumerate(entries):
            left.plot(sub.coords[sub.dims["value"][0]], sub["value"], color=f"C{k}", lw=1.5,
                      label=f"{symbol}, {pretty(label)}" if label else symbol)
        left.set(xlabel="$x$", ylabel=symbol,
                 title="effective value" if result.kind == "effective" else "value of entropic gradient descent")
        legend(left)
        vel = last["velocities"][..., 0]
        if result.kind == "effective":
            right.fill_between(x, vel.min(axis=1), vel.max(axis=1), color="C0", alpha=0.3, lw=0,
                               label="reachable velocities")
            right.plot(x, vel.min(axis=1), "C0", lw=1.2, label=r"$-\gamma A^+(x)$")
            right.plot(x, vel.max(axis=1), "C1", lw=1.2, label=r"$\gamma A^-(x)$")
        else:
            right.fill_between(x, vel.min(axis=1), vel.max(axis=1), color="C0", alpha=0.3, lw=0,
                               label=r"constant controls $u \in U$")
            right.plot(x, vel[:, -1], "C0", lw=1.2, label=r"$u = 1$: $-\gamma\,(x - m(x))$")
        right.axhline(0.0, color="k", lw=0.5)
        right.set(xlabel="$x$", ylabel=r"averaged velocity $\dot{x}$", title="what the averaged system can do")
        right.legend(fontsize="small")
    else:
        image(fig, left, last, "value", label=symbol)
        left.set_title(f"{symbol} {pretty(entries[-1][0])}".strip(), fontsize="medium")
        speed = Result(last.kind, coords=last.coords)
        speed.add("max speed", np.linalg.norm(last["velocities"], axis=-1).max(axis=-1), last.dims["value"])
        image(fig, right, speed, "max speed", cmap="magma", label="largest averaged speed")


def _memory(extended: bool):
    def memory(data) -> Estimate:
        model, gx = build_model(data), build_grid(data, "x")
        need = memory_estimate(model, gx, extended, data["solve"]["resolution"])
        return Estimate(need, f"an x-grid of {gx.size:,} nodes", "grid.x")
    return memory


_SOLVE = {"T": Key(float, required=True, check=positive, sweep=True),
          "courant": Key(float, default=DEFAULT_COURANT, check=in_unit_interval),
          "resolution": Key(int, default=DEFAULT_RESOLUTION, check=at_least(1)),
          "scheme": Key(str, default=DEFAULT_SCHEME, check=one_of(*SCHEMES))}

#: NaN in the candidates' labels marks the label that does not apply (add_candidates).
_NOT_APPLICABLE = ("candidate_control", "candidate_direction")

SPECS = [KindSpec("effective", datasets=("value", "velocities"), grids=("x",), solve=_SOLVE, runner=_runner(True), plot=picture,
                  nan_outside=_NOT_APPLICABLE,
                  memory=_memory(True),
                  headline=value_extremes, reference=exact_value),
         KindSpec("egd", datasets=("value", "velocities"), grids=("x",), solve=_SOLVE, runner=_runner(False), plot=picture,
                  nan_outside=_NOT_APPLICABLE,
                  memory=_memory(False),
                  headline=value_extremes)]
