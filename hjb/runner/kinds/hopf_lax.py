"""Kind ``hopf_lax``: u(x, t) = min_y f(y) + |x - y|^2/(2t) (the Moreau envelope) and the prox,
exactly or by the Godunov scheme (SPEC sections 5 and 10).

[solve] keys: ``t`` (sweepable), ``method`` ("exact" | "godunov"), ``courant`` and
``scheme`` ("filtered" | "monotone", Godunov only).  The [model] is dim and loss only.
"""
from __future__ import annotations

import numpy as np

from ...limits import Estimate
from ...output.summary import value_extremes
from ...solvers.hopf_lax import godunov_hopf_lax, memory_estimate as envelope_memory, moreau_envelope
from ...solvers.viscous import DEFAULT_COURANT, DEFAULT_SCHEME, SCHEMES, memory_estimate as viscous_memory
from ..build import build_grid, build_loss, grid_result
from ..kind import KindSpec
from ..schema import MODEL_NO_GAMMA, Key, in_unit_interval, non_negative, one_of
from .viscous_hj import picture


LONG_NAME = "Hopf-Lax value u(x, t) = min_y f(y) + |x - y|^2 / (2 t)"


def run(data, on_step):
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    names = tuple(grid.coordinate_names)
    attrs = {"t": s["t"], "method": s["method"]}
    if s["method"] == "godunov":
        sol = godunov_hopf_lax(loss, grid, s["t"], courant=s["courant"], on_step=on_step, scheme=s["scheme"])
        attrs.update(dt=sol.dt, steps=sol.steps, scheme=s["scheme"])
        return grid_result("hopf_lax", sol.value, [grid], attrs, long_name=LONG_NAME)
    env = moreau_envelope(loss, grid.nodes().reshape(-1, grid.dim), s["t"])
    result = grid_result("hopf_lax", env.value.reshape(grid.shape), [grid], attrs, long_name=LONG_NAME)
    result.add("prox", env.prox.reshape(grid.shape + (grid.dim,)), names + ("component",))
    result.add("gradient", env.gradient.reshape(grid.shape + (grid.dim,)), names + ("component",))
    return result


def memory(data) -> Estimate:
    """The Godunov march, or the exact envelope (f bounded by its values on a coarse sample)."""
    s = data["solve"]
    loss, grid = build_loss(data), build_grid(data, "x")
    if s["method"] == "godunov":
        need = viscous_memory(grid)
    else:
        need = envelope_memory(loss, grid.size, s["t"], float(np.max(loss.value(grid.sample()))))
    return Estimate(need, f"a Hopf-Lax grid of {grid.size:,} nodes", "grid.x")


SPECS = [KindSpec("hopf_lax", datasets=("value",), grids=("x",), model=MODEL_NO_GAMMA, runner=run, plot=picture,
                  memory=memory,
                  headline=value_extremes, solve={
                      "t": Key(float, required=True, check=non_negative, sweep=True),
                      "method": Key(str, default="exact", check=one_of("exact", "godunov")),
                      "courant": Key(float, default=DEFAULT_COURANT, check=in_unit_interval),
                      "scheme": Key(str, default=DEFAULT_SCHEME, check=one_of(*SCHEMES)),
                  })]
