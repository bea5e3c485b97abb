"""Kind ``cell``: the truncated delta-cell problem on D_n (SPEC sections 3 and 10).

[solve] keys: ``xbar``, ``pbar`` (numbers in d = 1, d-lists otherwise), ``n``
(radius of D_n), ``delta``, ``h`` (grid step), optional ``solver``
("direct" | "iterative").  Stores ``omega`` on the square grid of the nodes
j h (coordinates ``y`` or ``y1``, ``y2``; NaN outside D_n, 0 on grid nodes that
lie on the sphere) and the attribute ``delta_omega_at_center``.

Importing this module also registers the H-bar methods "cell" and "markov".
"""
from __future__ import annotations

from .case import Key, one_of, positive
from .cell import SOLVERS, check_cell_input, solve_truncated_cell
from .invariant import hbar_markov  # noqa: F401  (registers METHODS['markov'])
from .kinds import build_model, register
from .result import Result

_POINT = (int, float, list)


def _check(data):
    s = data["solve"]
    check_cell_input(data["model"]["dim"], s["xbar"], s["pbar"], s["n"], s["delta"], s["h"], s["solver"])


@register("cell", doc="truncated delta-cell problem on D_n: omega and delta omega(0)", check=_check, solve={
    "xbar": Key(_POINT, required=True, doc="frozen slow variable"),
    "pbar": Key(_POINT, required=True, doc="frozen momentum"),
    "n": Key(float, required=True, check=positive, sweep=True, doc="radius of D_n"),
    "delta": Key(float, required=True, check=positive, sweep=True, doc="discount"),
    "h": Key(float, required=True, check=positive, sweep=True, doc="grid step"),
    "solver": Key(str, default="direct", check=one_of(*SOLVERS)),
})
def _run_cell(data, on_step):
    s = data["solve"]
    sol = solve_truncated_cell(build_model(data), s["xbar"], s["pbar"], s["n"], s["delta"], s["h"],
                               solver=s["solver"])
    result = Result("cell", attrs={
        "delta_omega_at_center": sol.delta_omega_at_center, "n": sol.n, "delta": sol.delta, "h": sol.h,
        "solver": sol.solver, "unknowns": sol.unknowns, "nonzeros": sol.nonzeros,
        "refinements": sol.refinements, "assembly_time": sol.assembly_time, "solve_time": sol.solve_time})
    for name in sol.coordinate_names:
        result.coords[name] = sol.axis
    result.add("omega", sol.omega, tuple(sol.coordinate_names))
    return result
