"""Kinds ``viscous_hj`` and ``hopf_lax``: u(., t) on the x-grid (SPEC sections 5 and 10).

Both need a loss but no coupling gamma, so their [model] schema is dim and loss only.
Importing this module also registers the kind ``sde`` (:mod:`hjb.kinds_sde`), so
that one import line in ``hjb/__init__`` brings in all kinds of SPEC sections 5-6.
"""
from __future__ import annotations

import numpy as np

from .case import Key, at_least, non_negative, one_of, positive
from .entropy import cole_hopf_whole_space
from .hopf_lax import godunov_hopf_lax, moreau_envelope
from .kinds import build_grid, grid_result, register
from .losses import make_loss
from .viscous import COURANT, solve_viscous_hj

MODEL_NO_GAMMA = {
    "dim": Key(int, default=1, check=at_least(1)),
    "loss": Key(dict, required=True),
}


def _courant(v):
    return None if 0 < v <= 1 else f"must lie in (0, 1], got {v:g}"


def build_loss(data):
    m = data["model"]
    return make_loss(m["loss"]["name"], m["dim"], **{k: v for k, v in m["loss"].items() if k != "name"})


@register("viscous_hj", grids=("x",), model=MODEL_NO_GAMMA,
          doc="u(x, t) of du/dt = -|grad u|^2/2 + Lap u/(2 beta), with the Cole-Hopf reference", solve={
              "beta": Key(float, required=True, check=positive, sweep=True),
              "t": Key(float, required=True, check=non_negative, sweep=True),
              "courant": Key(float, default=COURANT, check=_courant),
              "reference": Key(bool, default=True),
          })
def _run_viscous(data, on_step):
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


@register("hopf_lax", grids=("x",), model=MODEL_NO_GAMMA,
          doc="u(x, t) = min_y f(y) + |x-y|^2/(2t) (Moreau envelope) and the prox", solve={
              "t": Key(float, required=True, check=non_negative, sweep=True),
              "method": Key(str, default="exact", check=one_of("exact", "godunov")),
              "courant": Key(float, default=COURANT, check=_courant),
          })
def _run_hopf_lax(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    names = tuple(grid.coordinate_names)
    attrs = {"t": s["t"], "method": s["method"]}
    if s["method"] == "godunov":
        sol = godunov_hopf_lax(loss, grid, s["t"], courant=s["courant"], on_step=on_step)
        attrs.update(dt=sol.dt, steps=sol.steps)
        return grid_result("hopf_lax", sol.value, [grid], attrs)
    env = moreau_envelope(loss, grid.nodes().reshape(-1, grid.dim), s["t"])
    result = grid_result("hopf_lax", env.value.reshape(grid.shape), [grid], attrs)
    result.add("prox", env.prox.reshape(grid.shape + (grid.dim,)), names + ("component",))
    result.add("gradient", env.gradient.reshape(grid.shape + (grid.dim,)), names + ("component",))
    return result
