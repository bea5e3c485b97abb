"""Kinds of run: each registers its [solve] schema, the grids it needs and a runner.

A runner receives the validated case data and returns a :class:`Result`; the
registry (not an if-ladder) is how ``hjb run`` reaches every solver.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .case import Case, Key, at_least, check_table, non_negative, one_of, positive
from .errors import InputError, did_you_mean
from .grid import Grid
from .losses import make_loss
from .model import DeepRelaxation, as_points
from .result import Result


@dataclass(frozen=True)
class KindSpec:
    name: str
    solve: dict
    runner: Callable
    grids: tuple = ()
    doc: str = ""
    model: Optional[dict] = None


KINDS: dict = {}


def register(name: str, solve: dict, grids: tuple = (), doc: str = "", model: Optional[dict] = None):
    """Decorator: make ``runner(data, on_step) -> Result`` reachable as kind ``name``.

    ``solve`` is the schema of its [solve] table, ``grids`` the grid blocks it
    needs, ``model`` the schema of [model] (default :data:`MODEL`)."""
    def wrap(runner):
        KINDS[name] = KindSpec(name, solve, runner, grids, doc, model)
        return runner
    return wrap


def _controls(v):
    if len(v) != 2 or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in v):
        return f"must be [u_min, u_max], got {v!r}"
    return None if v[0] <= v[1] else f"u_min = {v[0]:g} exceeds u_max = {v[1]:g}"


MODEL = {
    "dim": Key(int, default=1, check=at_least(1)),
    "gamma": Key(float, required=True, check=positive),
    "controls": Key(list, default=[0.0, 1.0], check=_controls),
    "loss": Key(dict, required=True),
}

_number_or_list = (int, float, list)
AXIS = {"lower": Key(_number_or_list, required=True), "upper": Key(_number_or_list, required=True),
        "points": Key(_number_or_list, required=True)}

TOP = {"kind": Key(str, required=True), "title": Key(str, default=""), "model": Key(dict),
       "grid": Key(dict), "solve": Key(dict, default={}), "output": Key(dict, default={})}


def validate(case: Case) -> dict:
    """Check a case against the common schema and its kind's [solve] schema."""
    data = check_table("case", case.data, TOP)
    kind = data["kind"]
    if kind not in KINDS:
        raise InputError("kind", f"unknown kind '{kind}'{did_you_mean(kind, KINDS)}; "
                         f"available: {', '.join(sorted(KINDS))}")
    spec = KINDS[kind]
    data = dict(data)
    data["solve"] = check_table("solve", data["solve"], spec.solve)
    data["output"] = check_table("output", data["output"], {"file": Key(str)})
    if "model" not in data:
        raise InputError("model", "missing required table")
    data["model"] = check_table("model", data["model"], spec.model or MODEL)
    loss = data["model"]["loss"]
    if not isinstance(loss.get("name"), str):
        raise InputError("model.loss.name", "missing required key (a shipped loss or 'package.module:function')")
    grids = dict(data.get("grid") or {})
    for name in grids:
        if name not in ("x", "y"):
            raise InputError(f"grid.{name}", f"unknown grid block{did_you_mean(name, ('x', 'y'))}; allowed: x, y")
    for name in spec.grids:
        if name not in grids:
            raise InputError(f"grid.{name}", f"missing: kind '{kind}' needs grid.{name}")
        grids[name] = check_table(f"grid.{name}", grids[name], AXIS)
    data["grid"] = grids
    return data


def build_model(data: dict) -> DeepRelaxation:
    m = data["model"]
    params = {k: v for k, v in m["loss"].items() if k != "name"}
    loss = make_loss(m["loss"]["name"], m["dim"], **params)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        return DeepRelaxation(loss, m["gamma"], tuple(m["controls"]))


def build_grid(data: dict, name: str) -> Grid:
    g = data["grid"][name]
    grid = Grid.box(g["lower"], g["upper"], g["points"], name=name)
    if grid.dim != data["model"]["dim"]:
        raise InputError(f"grid.{name}", f"has {grid.dim} axes but model.dim = {data['model']['dim']}")
    return grid


def sweep_key(data: dict) -> Optional[str]:
    """The one [solve] key whose value is a list that the kind allows to sweep."""
    spec = KINDS[data["kind"]]
    keys = [k for k, v in data["solve"].items() if spec.solve[k].sweep and isinstance(v, list)]
    if len(keys) > 1:
        raise InputError("solve", f"sweep one key at a time, got lists for {', '.join(keys)}")
    return keys[0] if keys else None


def member_name(key: str, value) -> str:
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def run(case: Case, on_step: Optional[Callable[[int, int], None]] = None) -> Result:
    """Run a case: one solve, or one per entry of a sweep list."""
    data = validate(case)
    runner = KINDS[data["kind"]].runner
    key = sweep_key(data)
    if key is None:
        result = _timed(runner, data, on_step)
    else:
        result = Result(data["kind"], attrs={"sweep": key})
        for value in data["solve"][key]:
            single = dict(data, solve=dict(data["solve"], **{key: value}))
            result.members[member_name(key, value)] = _timed(runner, single, on_step)
    result.case_text = case.text
    return result


def _timed(runner, data, on_step):
    start = time.perf_counter()
    result = runner(data, on_step)
    result.attrs["wall_time"] = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------- kinds

def _grid_result(kind: str, value: np.ndarray, grids: list, attrs: dict) -> Result:
    result = Result(kind, attrs=attrs)
    for grid in grids:
        result.coords.update(grid.coordinates())
    result.add("value", value, tuple(n for g in grids for n in g.coordinate_names))
    return result


@register("eps_hjb", grids=("x", "y"), doc="V^eps(0, x, y) of the eps-HJB equation", solve={
    "T": Key(float, required=True, check=positive),
    "eps": Key(float, required=True, check=positive, sweep=True),
    "dt": Key(float, check=positive),
    "courant": Key(float, check=positive),
    "y_scheme": Key(str, default="fitted", check=one_of("fitted", "upwind")),
    "snapshots": Key(int, default=0, check=at_least(0)),
})
def _run_eps_hjb(data, on_step):
    from .eps_hjb import COURANT, solve_eps_hjb
    s = data["solve"]
    model, gx, gy = build_model(data), build_grid(data, "x"), build_grid(data, "y")
    sol = solve_eps_hjb(model, gx, gy, s["T"], s["eps"], dt=s.get("dt"), courant=s.get("courant", COURANT),
                        y_scheme=s["y_scheme"], snapshots=s["snapshots"], on_step=on_step)
    result = _grid_result("eps_hjb", sol.value, [gx, gy],
                          {"eps": sol.eps, "T": sol.T, "dt": sol.dt, "steps": sol.steps})
    if sol.snapshots is not None:
        result.coords["time"] = sol.times
        result.add("snapshots", sol.snapshots, ("time",) + result.dims["value"])
    return result


def _effective_runner(extended: bool):
    def runner(data, on_step):
        from .effective import solve_effective
        s = data["solve"]
        model, gx = build_model(data), build_grid(data, "x")
        sol = solve_effective(model, gx, s["T"], extended=extended, courant=s["courant"],
                              resolution=s["resolution"], on_step=on_step)
        result = _grid_result(data["kind"], sol.value, [gx],
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


@register("hbar", doc="H-bar(x, p) at paired points", solve={
    "x": Key(list, required=True), "p": Key(list, required=True),
    "method": Key(str, default="quadrature"),
})
def _run_hbar(data, on_step):
    from .hamiltonian import effective_hamiltonian
    s, dim = data["solve"], data["model"]["dim"]
    model = build_model(data)
    pts = {}
    for name in ("x", "p"):
        try:
            pts[name] = as_points(np.asarray(s[name], dtype=float), dim)
        except (ValueError, TypeError, InputError):
            raise InputError(f"solve.{name}", f"must be a list of {dim}-vectors (numbers in d = 1)") from None
    if len(pts["x"]) != len(pts["p"]):
        raise InputError("solve.p", f"must pair with solve.x: {len(pts['p'])} entries vs {len(pts['x'])}")
    hbar = effective_hamiltonian(model, pts["x"], pts["p"], method=s["method"])
    result = Result("hbar", attrs={"method": s["method"]})
    shape = ("pair",) if dim == 1 else ("pair", "component")
    for name in ("x", "p"):
        result.add(name, pts[name][:, 0] if dim == 1 else pts[name], shape)
    result.add("hbar", hbar, ("pair",))
    return result
