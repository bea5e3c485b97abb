"""Kind ``cell``: the truncated delta-cell problem on D_n (SPEC sections 3 and 10).

[solve] keys: ``xbar``, ``pbar`` (numbers in d = 1, d-lists otherwise), ``n``
(radius of D_n), ``delta``, ``h`` (grid step), optional ``solver``
("direct" | "iterative").  Stores ``omega`` on the square grid of the nodes
j h (coordinates ``y`` or ``y1``, ``y2``; NaN outside D_n, 0 on grid nodes that
lie on the sphere) and the attribute ``delta_omega_at_center``.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...hbar.methods import effective_hamiltonian
from ...limits import Estimate
from ...output.plots import colour_map, members, pretty, robust_limits, symbol, symmetric_limits
from ...output.rates import loglog_rate
from ...output.result import Result
from ...solvers.ball_solve import SOLVERS
from ...solvers.cell import check_cell_input, memory_estimate, solve_truncated_cell
from ..build import build_model
from ..kind import KindSpec
from ..schema import Key, one_of, positive

_POINT = (int, float, list)


def _check(data):
    s = data["solve"]
    check_cell_input(data["model"]["dim"], s["xbar"], s["pbar"], s["n"], s["delta"], s["h"], s["solver"])


def run(data, on_step):
    s = data["solve"]
    model = build_model(data)
    sol = solve_truncated_cell(model, s["xbar"], s["pbar"], s["n"], s["delta"], s["h"], solver=s["solver"])
    result = Result("cell", attrs={
        "delta_omega_at_center": sol.delta_omega_at_center, "n": sol.n, "delta": sol.delta, "h": sol.h,
        "solver": sol.solver, "unknowns": sol.unknowns, "nonzeros": sol.nonzeros,
        "refinements": sol.refinements, "assembly_time": sol.assembly_time, "solve_time": sol.solve_time})
    for name in sol.coordinate_names:
        result.coords[name] = sol.axis
    result.add("omega", sol.omega, tuple(sol.coordinate_names))
    if model.potential is not None:       # what delta omega tends to (cheap: one quadrature)
        try:
            hbar = float(effective_hamiltonian(model, [s["xbar"]], [s["pbar"]], method="quadrature")[0])
        except InputError:
            hbar = float("nan")
        if np.isfinite(hbar):
            result.attrs["hbar_quadrature"] = hbar
    return result


def _hbar(sub: Result):
    """H-bar(xbar, pbar) by quadrature when the result holds it (attribute ``hbar_quadrature``)."""
    value = sub.attrs.get("hbar_quadrature")
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def _delta_omega(sub: Result) -> np.ndarray:
    """delta * omega (it tends to -H-bar inside D_n), or omega when delta is unknown."""
    delta = sub.attrs.get("delta")
    return (delta if isinstance(delta, (int, float)) else 1.0) * sub["omega"]


def _radial(sub: Result, values: np.ndarray):
    """(node radius |y| inside D_n, values there), sorted by radius."""
    axes = np.meshgrid(*[sub.coords[d] for d in sub.dims["omega"]], indexing="ij")
    r = np.sqrt(sum(a ** 2 for a in axes))
    keep = np.isfinite(values)
    order = np.argsort(r[keep], kind="stable")
    return r[keep][order], values[keep][order]


def _profile(ax, sub: Result, label: str = "", color=None):
    """|delta omega + H-bar| (log) or delta omega against y (d = 1) or the radius |y| (the
    largest value on each ring of width h)."""
    dw, hbar = _delta_omega(sub), _hbar(sub)
    values = np.abs(dw + hbar) if hbar is not None else dw
    if dw.ndim == 1:
        where, shown, xlabel = sub.coords[sub.dims["omega"][0]], values, "$y$"
    else:
        r, v = _radial(sub, values)
        h = float(sub.attrs.get("h", np.max(np.diff(sub.coords[sub.dims["omega"][0]]))))
        rings = np.round(r / h).astype(int)
        where = np.unique(rings) * h
        shown = np.full(len(where), -np.inf)
        np.maximum.at(shown, np.searchsorted(np.unique(rings), rings), v if hbar is not None else np.abs(v))
        xlabel = r"$|y|$ (largest value on each ring of width $h$)"
    if hbar is not None:
        ax.semilogy(where, np.where(shown > 0, shown, np.nan), lw=1.2, color=color, label=label or None)
        ax.set_ylabel(r"$|\delta\omega(y) + \bar{H}(\bar{x}, \bar{p})|$")
    else:
        ax.plot(where, shown, lw=1.2, color=color, label=label or None)
        ax.set_ylabel(r"$\delta\omega(y)$" if dw.ndim == 1 else r"$\max|\delta\omega|$ on the ring")
    ax.set_xlabel(xlabel)


def _interior(sub: Result) -> np.ndarray:
    """The nodes with |y| < n/2: away from the boundary layer of D_n."""
    axes = np.meshgrid(*[sub.coords[d] for d in sub.dims["omega"]], indexing="ij")
    n = float(sub.attrs.get("n", np.max(np.abs(axes[0]))))
    return np.sqrt(sum(a ** 2 for a in axes)) < 0.5 * n


def _single(fig, sub: Result):
    dw, hbar = _delta_omega(sub), _hbar(sub)
    centre = sub.attrs.get("delta_omega_at_center")
    a, b = fig.subplots(1, 2)
    if dw.ndim == 1:
        y = sub.coords[sub.dims["omega"][0]]
        a.plot(y, dw, "C0", lw=1.5, label=r"$\delta\omega(y)$" + (f", $\\delta\\omega(0) = {centre:.6g}$"
                                                                     if centre is not None else ""))
        if hbar is not None:
            a.axhline(-hbar, color="k", ls="--", lw=1.0, label=rf"$-\bar{{H}}(\bar{{x}}, \bar{{p}}) = {-hbar:.6g}$")
        a.set(xlabel="$y$", ylabel=r"$\delta\omega(y)$", title=r"$\delta\omega \to -\bar{H}$ inside $D_n$")
        a.legend(fontsize="small")
    else:
        values = dw + hbar if hbar is not None else dw
        limits = robust_limits(values, _interior(sub), (0.5, 99.5))      # the interior sets the colours
        straddles = limits[0] < 0 < limits[1]
        if straddles:
            limits = symmetric_limits(np.array(limits))
        label = r"$\delta\omega + \bar{H}(\bar{x}, \bar{p})$" if hbar is not None else r"$\delta\omega$"
        y1, y2 = (sub.coords[d] for d in sub.dims["omega"])
        colour_map(fig, a, y1, y2, values, label, cmap="RdBu_r" if straddles else "viridis",
                   limits=limits, title=(f"$\\delta\\omega(0) = {centre:.6g}$" if centre is not None else label)
                   + (rf", $\bar{{H}} = {hbar:.6g}$" if hbar is not None else "") + r" (dashed: $|y| = n/2$)")
        t = np.linspace(0, 2 * np.pi, 200)
        half = 0.5 * float(sub.attrs.get("n", y1.max()))
        a.plot(half * np.cos(t), half * np.sin(t), "k--", lw=0.8)
        a.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal")
    _profile(b, sub, color="C3")
    if "n" in sub.attrs:
        b.axvline(0.5 * float(sub.attrs["n"]), color="gray", ls=":", lw=0.8)
        if dw.ndim == 1:
            b.axvline(-0.5 * float(sub.attrs["n"]), color="gray", ls=":", lw=0.8)
    b.set_title("interior against the boundary layer (dotted: $|y| = n/2$)", fontsize="medium")


def _sweep(fig, result: Result, entries):
    """A sweep over n, delta or h: the profiles, and |delta omega(0) + H-bar| against the parameter."""
    a, b = fig.subplots(1, 2)
    for k, (label, sub) in enumerate(entries):
        _profile(a, sub, pretty(label), color=f"C{k}")
    a.legend(fontsize="small")
    a.set_title("profiles", fontsize="medium")
    key = str(result.attrs.get("sweep", ""))
    values = np.array([float(sub.attrs.get(key, np.nan)) for _, sub in entries])
    centre = np.array([float(sub.attrs.get("delta_omega_at_center", np.nan)) for _, sub in entries])
    hbar = [_hbar(sub) for _, sub in entries]
    if all(v is not None for v in hbar):
        loglog_rate(b, values, np.abs(centre + np.array(hbar)), r"$|\delta\omega(0) + \bar{H}|$",
                    what="order" if key == "h" else "rate")
        b.set_ylabel(r"$|\delta\omega(0) + \bar{H}(\bar{x}, \bar{p})|$")
    else:
        b.semilogx(values, centre, "o", label=r"$\delta\omega(0)$")
        b.set_ylabel(r"$\delta\omega(0)$")
    b.set_xlabel(f"${symbol(key)}$" if key else "member")
    b.set_title(r"the centre value against the swept parameter", fontsize="medium")
    b.legend(fontsize="small")


def picture(fig, result: Result):
    """delta omega on D_n against -H-bar (by quadrature, when stored): d = 1 the profile and the
    log error; d = 2 the map of delta omega + H-bar with colours from the interior |y| < n/2,
    and its radial profile; a sweep: the profiles and the error at the centre against n, delta or h."""
    entries = members(result)
    if len(entries) > 1:
        _sweep(fig, result, entries)
    else:
        _single(fig, entries[0][1])


def headline(result: Result) -> list:
    lines = []
    if "delta_omega_at_center" in result.attrs:
        lines.append(f"delta omega at the centre = {result.attrs['delta_omega_at_center']:.10g} "
                     "(approximates -H-bar(xbar, pbar))")
    if "hbar_quadrature" in result.attrs and "delta_omega_at_center" in result.attrs:
        hbar = result.attrs["hbar_quadrature"]
        lines.append(f"H-bar(xbar, pbar) by quadrature = {hbar:.10g}; "
                     f"|delta omega(0) + H-bar| = {abs(result.attrs['delta_omega_at_center'] + hbar):.3g}")
    return lines


def memory(data) -> Estimate:
    s = data["solve"]
    need = memory_estimate(build_model(data), s["xbar"], s["n"], s["h"], s["solver"])
    return Estimate(need, f"the {s['solver']} cell-problem solve", "solve.h")


SPECS = [KindSpec("cell", datasets=("omega",), nan_outside=("omega",), check=_check, runner=run, plot=picture, headline=headline,
                  memory=memory, solve={
    "xbar": Key(_POINT, required=True),
    "pbar": Key(_POINT, required=True),
    "n": Key(float, required=True, check=positive, sweep=True),
    "delta": Key(float, required=True, check=positive, sweep=True),
    "h": Key(float, required=True, check=positive, sweep=True),
    "solver": Key(str, default="direct", check=one_of(*SOLVERS)),
})]
