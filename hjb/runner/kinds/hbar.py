"""Kind ``hbar``: H-bar(x, p) at paired points, by one of the methods of SPEC section 3.

[solve] keys: ``x`` and ``p`` (lists of equal length, paired element by element; in
d = 2 each entry a 2-list) and ``method`` (a name of :data:`hjb.hbar.methods.METHODS`).
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...hbar.methods import check_method, effective_hamiltonian
from ...output.plots import members
from ...output.result import Result
from ...output.summary import fmt
from ...points import as_points
from ..build import build_model
from ..kind import KindSpec
from ..schema import Key


def _points(data) -> dict:
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


def _check(data):
    _points(data)
    check_method(data["solve"]["method"])


def run(data, on_step):
    s, dim = data["solve"], data["model"]["dim"]
    model = build_model(data)
    pts = _points(data)
    hbar = effective_hamiltonian(model, pts["x"], pts["p"], method=s["method"])
    result = Result("hbar", attrs={"method": s["method"]})
    shape = ("pair",) if dim == 1 else ("pair", "component")
    for name in ("x", "p"):
        result.add(name, pts[name][:, 0] if dim == 1 else pts[name], shape)
    result.add("hbar", hbar, ("pair",))
    return result


def picture(fig, result: Result):
    """H-bar at the pairs: against x, one marker series per momentum p (d = 1)."""
    ax = fig.subplots()
    for label, sub in members(result):
        h, x, p = sub["hbar"], sub["x"], sub["p"]
        if x.ndim == 1:
            for pv in np.unique(p):
                sel = p == pv
                ax.plot(x[sel], h[sel], "o-", label=f"{label} p = {pv:.3g}".strip())
            ax.set_xlabel("x")
        else:
            ax.plot(np.arange(len(h)), h, "o", label=label or None)
            ax.set_xticks(np.arange(len(h)))
            ax.set_xticklabels([f"x={np.round(a, 2).tolist()}\np={np.round(b, 2).tolist()}" for a, b in zip(x, p)],
                               fontsize="x-small")
            ax.set_xlabel("pair")
    ax.set_ylabel("H-bar(x, p)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def headline(result: Result) -> list:
    x, p, h = result["x"], result["p"], result["hbar"]
    lines = ["H-bar at the pairs (x, p):"]
    for k in range(min(len(h), 20)):
        lines.append(f"  x = {fmt(np.round(x[k], 6).tolist())}, p = {fmt(np.round(p[k], 6).tolist())}: "
                     f"H-bar = {h[k]:.10g}")
    if len(h) > 20:
        lines.append(f"  ... ({len(h) - 20} more)")
    return lines


SPECS = [KindSpec("hbar", datasets=("x", "p", "hbar"), check=_check, runner=run, plot=picture, headline=headline, solve={
    "x": Key(list, required=True), "p": Key(list, required=True),
    "method": Key(str, default="quadrature"),
})]
