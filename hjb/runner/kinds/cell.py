"""Kind ``cell``: the truncated delta-cell problem on D_n (SPEC sections 3 and 10).

[solve] keys: ``xbar``, ``pbar`` (numbers in d = 1, d-lists otherwise), ``n``
(radius of D_n), ``delta``, ``h`` (grid step), optional ``solver``
("direct" | "iterative").  Stores ``omega`` on the square grid of the nodes
j h (coordinates ``y`` or ``y1``, ``y2``; NaN outside D_n, 0 on grid nodes that
lie on the sphere) and the attribute ``delta_omega_at_center``.
"""
from __future__ import annotations

import numpy as np

from ...output.plots import image, line, members
from ...output.result import Result
from ...solvers.ball_solve import SOLVERS
from ...solvers.cell import check_cell_input, solve_truncated_cell
from ..build import build_model
from ..kind import KindSpec
from ..schema import Key, one_of, positive

_POINT = (int, float, list)


def _check(data):
    s = data["solve"]
    check_cell_input(data["model"]["dim"], s["xbar"], s["pbar"], s["n"], s["delta"], s["h"], s["solver"])


def run(data, on_step):
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


def _delta_omega(sub: Result):
    """(result, name) of delta * omega when delta is known (it tends to -H-bar inside
    D_n and shows the boundary layer), else of omega itself."""
    delta = sub.attrs.get("delta")
    if not isinstance(delta, (int, float)):
        return sub, "omega"
    scaled = Result(sub.kind, coords=sub.coords, attrs=sub.attrs)
    scaled.add("δ ω", delta * sub["omega"], sub.dims["omega"])
    return scaled, "δ ω"


def picture(fig, result: Result):
    """delta omega on the grid of D_n (NaN outside the disc stays blank), delta omega(centre) in the title."""
    entries = [(label, *_delta_omega(sub)) for label, sub in members(result)]
    if entries[-1][1][entries[-1][2]].ndim == 1:
        ax = fig.subplots()
        for label, sub, name in entries:
            dw = sub.attrs.get("delta_omega_at_center")
            text = f"{label} δω(0) = {dw:.6g}".strip() if dw is not None else label
            line(ax, sub, name, text)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        return
    axes = np.atleast_1d(fig.subplots(1, min(len(entries), 3)))
    for ax, (label, sub, name) in zip(axes, entries[-len(axes):]):
        image(fig, ax, sub, name)
        dw = sub.attrs.get("delta_omega_at_center")
        if dw is not None:
            ax.set_title(f"{label} δω(0) = {dw:.6g}".strip(), fontsize="medium")


def headline(result: Result) -> list:
    lines = []
    if "delta_omega_at_center" in result.attrs:
        lines.append(f"delta omega at the centre = {result.attrs['delta_omega_at_center']:.10g} "
                     "(approximates -H-bar(xbar, pbar))")
    return lines


SPECS = [KindSpec("cell", datasets=("omega",), nan_outside=("omega",), check=_check, runner=run, plot=picture, headline=headline, solve={
    "xbar": Key(_POINT, required=True),
    "pbar": Key(_POINT, required=True),
    "n": Key(float, required=True, check=positive, sweep=True),
    "delta": Key(float, required=True, check=positive, sweep=True),
    "h": Key(float, required=True, check=positive, sweep=True),
    "solver": Key(str, default="direct", check=one_of(*SOLVERS)),
})]
