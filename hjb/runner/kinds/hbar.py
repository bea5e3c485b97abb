"""Kind ``hbar``: H-bar(x, p) at paired points, by one of the methods of SPEC section 3.

[solve] keys: ``x`` and ``p`` (lists of equal length, paired element by element; in
d = 2 each entry a 2-list) and ``method`` (a name of :data:`hjb.hbar.methods.METHODS`).
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...hbar.methods import check_method, effective_hamiltonian, memory_estimate
from ...limits import Estimate
from ...output.plots import members, pretty
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
    result.describe("hbar", "effective Hamiltonian H-bar(x, p)", coordinates="x p")   # x, p: coordinates in xarray
    result.describe("x", "slow variable x of each pair")
    result.describe("p", "momentum p of each pair")
    return result


def picture(fig, result: Result):
    """H-bar at the pairs as markers (no lines: the pairs are unrelated): against x, one marker
    style per momentum p (d = 1); d = 2 one marker per pair, the pair written under it."""
    ax = fig.subplots()
    markers = "osD^vP*Xph"
    entries = members(result)
    for k, (label, sub) in enumerate(entries):
        h, x, p = sub["hbar"], sub["x"], sub["p"]
        prefix = f"{pretty(label)}, " if label else ""
        if x.ndim == 1:
            for j, pv in enumerate(np.unique(p)):
                sel = p == pv
                ax.plot(x[sel], h[sel], ls="none", marker=markers[j % len(markers)], ms=7,
                        color=f"C{(j + k * 3) % 10}", label=f"{prefix}$p = {pv:.3g}$")
            ax.set_xlabel("$x$")
        else:
            ax.plot(np.arange(len(h)), h, ls="none", marker=markers[k % len(markers)], ms=7, label=label and pretty(label))
            ax.set_xticks(np.arange(len(h)))
            ax.set_xticklabels([f"$x$ = {np.round(a, 2).tolist()}\n$p$ = {np.round(b, 2).tolist()}" for a, b in zip(x, p)],
                               fontsize="x-small")
            ax.set_xlabel("pair $(x, p)$")
    method = result.attrs.get("method") or entries[-1][1].attrs.get("method")
    ax.set_ylabel(r"$\bar{H}(x, p)$")
    ax.set_title(r"effective Hamiltonian $\bar{H}$ at the pairs" + (f" (by {method})" if method else ""),
                 fontsize="medium")
    ax.axhline(0.0, color="gray", lw=0.5)
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


def memory(data) -> Estimate:
    pts = _points(data)
    need = memory_estimate(build_model(data), pts["x"], pts["p"], data["solve"]["method"])
    return Estimate(need, f"H-bar by {data['solve']['method']} at {len(pts['x']):,} points", "solve.x")


SPECS = [KindSpec("hbar", memory=memory, datasets=("x", "p", "hbar"), check=_check, runner=run, plot=picture, headline=headline, solve={
    "x": Key(list, required=True), "p": Key(list, required=True),
    "method": Key(str, default="quadrature"),
})]
