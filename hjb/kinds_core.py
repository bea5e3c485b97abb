"""The kinds of the core engine: eps_hjb, effective, egd and hbar (SPEC section 10).

Each registers its [solve] schema and a runner ``runner(data, on_step) -> Result``
with :func:`hjb.kinds.register`; the solvers they call live in their own modules.
"""
from __future__ import annotations

import numpy as np

from .case import Key, at_least, one_of, positive
from .effective import solve_effective
from .eps_hjb import COURANT, solve_eps_hjb
from .errors import InputError, did_you_mean
from .hamiltonian import METHODS, effective_hamiltonian
from .kinds import build_grid, build_model, grid_result, register
from .model import as_points
from .result import Result


def _y_inside_x(data):
    """The slow drift -u gamma (x - y) points into the x-box only if the y-box lies inside it."""
    gx, gy = build_grid(data, "x"), build_grid(data, "y")
    if not gx.contains(gy):
        box = lambda g: " x ".join(f"[{a.lower:g}, {a.upper:g}]" for a in g.axes)  # noqa: E731
        raise InputError("grid.y", f"the y-box {box(gy)} must lie inside the x-box {box(gx)} "
                         "(else characteristics leave the x-box)")


@register("eps_hjb", grids=("x", "y"), doc="V^eps(0, x, y) of the eps-HJB equation", check=_y_inside_x, solve={
    "T": Key(float, required=True, check=positive),
    "eps": Key(float, required=True, check=positive, sweep=True),
    "dt": Key(float, check=positive),
    "courant": Key(float, check=positive),
    "y_scheme": Key(str, default="fitted", check=one_of("fitted", "upwind")),
    "snapshots": Key(int, default=0, check=at_least(0)),
})
def _run_eps_hjb(data, on_step):
    s = data["solve"]
    model, gx, gy = build_model(data), build_grid(data, "x"), build_grid(data, "y")
    sol = solve_eps_hjb(model, gx, gy, s["T"], s["eps"], dt=s.get("dt"), courant=s.get("courant", COURANT),
                        y_scheme=s["y_scheme"], snapshots=s["snapshots"], on_step=on_step)
    result = grid_result("eps_hjb", sol.value, [gx, gy],
                         {"eps": sol.eps, "T": sol.T, "dt": sol.dt, "steps": sol.steps})
    if sol.snapshots is not None:
        result.coords["time"] = sol.times
        result.add("snapshots", sol.snapshots, ("time",) + result.dims["value"])
    return result


def _effective_runner(extended: bool):
    def runner(data, on_step):
        s = data["solve"]
        model, gx = build_model(data), build_grid(data, "x")
        sol = solve_effective(model, gx, s["T"], extended=extended, courant=s["courant"],
                              resolution=s["resolution"], on_step=on_step)
        result = grid_result(data["kind"], sol.value, [gx],
                             {"T": sol.T, "dt": sol.dt, "steps": sol.steps, "extended": extended})
        result.add("velocities", sol.velocities, tuple(gx.coordinate_names) + ("candidate", "component"))
        return result
    return runner


_EFFECTIVE = {"T": Key(float, required=True, check=positive, sweep=True),
              "courant": Key(float, default=1.0, check=lambda v: None if 0 < v <= 1 else f"must lie in (0, 1], got {v:g}"),
              "resolution": Key(int, default=4, check=at_least(1))}
register("effective", grids=("x",), doc="v(0, x) of the effective HJ equation", solve=_EFFECTIVE)(
    _effective_runner(True))
register("egd", grids=("x",), doc="value of controlled entropic gradient descent", solve=_EFFECTIVE)(
    _effective_runner(False))


def _hbar_points(data) -> dict:
    s, dim = data["solve"], data["model"]["dim"]
    pts = {}
    for name in ("x", "p"):
        try:
            values = np.asarray(s[name], dtype=float)
            if values.size == 0 or not np.all(np.isfinite(values)):
                raise ValueError
            pts[name] = as_points(values, dim)
        except (ValueError, TypeError, InputError):
            shape = "numbers" if dim == 1 else f"{dim}-lists of numbers"
            raise InputError(f"solve.{name}", f"must be a non-empty list of finite {shape}, got {s[name]!r}") from None
    if len(pts["x"]) != len(pts["p"]):
        raise InputError("solve.p", f"must pair with solve.x: {len(pts['p'])} entries vs {len(pts['x'])}")
    return pts


def _check_hbar(data):
    _hbar_points(data)
    method = data["solve"]["method"]
    if method not in METHODS:
        raise InputError("solve.method", f"unknown method '{method}'{did_you_mean(method, METHODS)}; "
                         f"available: {', '.join(METHODS)}")


@register("hbar", doc="H-bar(x, p) at paired points", check=_check_hbar, solve={
    "x": Key(list, required=True), "p": Key(list, required=True),
    "method": Key(str, default="quadrature"),
})
def _run_hbar(data, on_step):
    s, dim = data["solve"], data["model"]["dim"]
    model = build_model(data)
    pts = _hbar_points(data)
    hbar = effective_hamiltonian(model, pts["x"], pts["p"], method=s["method"])
    result = Result("hbar", attrs={"method": s["method"]})
    shape = ("pair",) if dim == 1 else ("pair", "component")
    for name in ("x", "p"):
        result.add(name, pts[name][:, 0] if dim == 1 else pts[name], shape)
    result.add("hbar", hbar, ("pair",))
    return result
