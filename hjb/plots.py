"""The natural picture of each kind of result (``hjb plot``; scripts and notebooks too).

A registry maps a kind to a function ``draw(fig, result)`` that fills a
matplotlib Figure: labelled axes, the case's parameters in the title, one
curve per member for a sweep.  Kinds without an entry get the generic
picture (a line of a 1-D ``value``, an image of a 2-D one).

Figures are built with :class:`matplotlib.figure.Figure` and rendered by Agg,
so nothing here touches pyplot's global state (safe in scripts, workers and
notebooks alike); :func:`save_figure` writes atomically.

    from hjb.plots import figure
    fig = figure(hjb.load("results/wide_narrow.h5"))
"""
from __future__ import annotations

import os
import textwrap
from typing import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .atomic import atomic_path
from .errors import InputError
from .result import Result

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

PLOTTERS: dict = {}
FORMATS = ("png", "pdf", "svg")


def plotter(*kinds: str):
    """Decorator: ``draw(fig, result)`` is the picture of ``kinds``."""
    def wrap(func: Callable):
        for kind in kinds:
            PLOTTERS[kind] = func
        return func
    return wrap


# ------------------------------------------------------------------ helpers

def members(result: Result) -> list:
    """``[(label, Result)]``: the members of a sweep, or the result itself."""
    if result.members:
        return list(result.members.items())
    return [("", result)]


def _case(result: Result) -> dict:
    try:
        return tomllib.loads(result.case_text) if result.case_text else {}
    except tomllib.TOMLDecodeError:
        return {}


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value[:4]) + (", ..." if len(value) > 4 else "") + "]"
    return str(value)


def title(result: Result) -> str:
    """The case title, then the parameters that define the run (model and [solve])."""
    case = _case(result)
    model = case.get("model", {}) if isinstance(case.get("model"), dict) else {}
    loss = model.get("loss", {}) if isinstance(model.get("loss"), dict) else {}
    parts = [f"{result.kind}"]
    if "name" in loss:
        parts.append(f"loss {loss['name']}")
    for key in ("dim", "gamma", "controls"):
        if key in model:
            parts.append(f"{'γ' if key == 'gamma' else key} = {_short(model[key])}")
    solve = case.get("solve", {}) if isinstance(case.get("solve"), dict) else {}
    for key, value in solve.items():
        if not isinstance(value, (dict,)) and key not in ("x", "p"):
            parts.append(f"{'ε' if key == 'eps' else key} = {_short(value)}")
    head = case.get("title") or result.kind
    return f"{head}\n" + "\n".join(textwrap.wrap(", ".join(parts), 110))


def reduce_to(result: Result, name: str, keep: int):
    """The dataset with all but its first ``keep`` axes fixed at their middle node.

    Returns (array, axis names kept, text naming the fixed coordinates)."""
    values, dims = result[name], result.dims[name]
    index, fixed = [], []
    for k, dim in enumerate(dims):
        if k < keep:
            index.append(slice(None))
        else:
            i = values.shape[k] // 2
            index.append(i)
            where = f"{result.coords[dim][i]:.3g}" if dim in result.coords else f"#{i}"
            fixed.append(f"{dim} = {where}")
    return values[tuple(index)], dims[:keep], ", ".join(fixed)


def _axis_values(result: Result, dim: str, n: int) -> np.ndarray:
    return result.coords[dim] if dim in result.coords else np.arange(n)


def line(ax, result: Result, name: str, label: str = "", **style):
    """A 1-D dataset (after fixing its other axes) against its coordinate."""
    values, dims, fixed = reduce_to(result, name, 1)
    ax.plot(_axis_values(result, dims[0], len(values)), values, label=label or None, **style)
    ax.set_xlabel(dims[0])
    ax.set_ylabel(name + (f"  ({fixed})" if fixed else ""))


def image(fig, ax, result: Result, name: str, cmap: str = "viridis"):
    """A 2-D dataset (after fixing its other axes) as a colour map; NaN stays blank."""
    values, dims, fixed = reduce_to(result, name, 2)
    u = _axis_values(result, dims[0], values.shape[0])
    v = _axis_values(result, dims[1], values.shape[1])
    mesh = ax.pcolormesh(u, v, np.ma.masked_invalid(values).T, shading="auto", cmap=cmap)
    if dims[0] in result.coords and dims[1] in result.coords and dims[0][0] == dims[1][0]:
        ax.set_aspect("equal")          # two axes of one variable (x1, x2 or y1, y2): same scale
    ax.set_xlabel(dims[0])
    ax.set_ylabel(dims[1])
    ax.set_title(name + (f"  ({fixed})" if fixed else ""), fontsize="medium")
    fig.colorbar(mesh, ax=ax)


def _legend(ax, entries):
    if any(label for label, _ in entries):
        ax.legend(fontsize="small")


# ------------------------------------------------------------------ kinds

@plotter("eps_hjb")
def _eps_hjb(fig, result: Result):
    """d = 1: the surface V^eps(0, x, y) and its slices in x at a few y (one curve per
    member at the middle y for a sweep); d >= 2: V^eps at the middle y node."""
    entries = members(result)
    last = entries[-1][1]
    dim = len(last.dims["value"]) // 2
    if dim == 1:
        left, right = fig.subplots(1, 2)
        image(fig, left, last, "value")
        if entries[-1][0]:
            left.set_title(f"V^ε(0, x, y), {entries[-1][0]}", fontsize="medium")
        else:
            left.set_title("V^ε(0, x, y)", fontsize="medium")
        if len(entries) > 1:
            for label, sub in entries:
                line(right, sub, "value", label)
            right.set_title("slices at the middle y", fontsize="medium")
        else:
            y = last.coords[last.dims["value"][1]]
            x = last.coords[last.dims["value"][0]]
            for j in np.linspace(0, len(y) - 1, 5).astype(int):
                right.plot(x, last["value"][:, j], label=f"y = {y[j]:.3g}")
            right.set_xlabel(last.dims["value"][0])
            right.set_ylabel("V^ε(0, x, y)")
        right.legend(fontsize="small")
    else:
        axes = np.atleast_1d(fig.subplots(1, min(len(entries), 3)))
        for ax, (label, sub) in zip(axes, entries[-len(axes):]):
            image(fig, ax, sub, "value")
            if label:
                ax.set_title(f"{label}: {ax.get_title()}", fontsize="small")


@plotter("effective", "egd")
def _effective(fig, result: Result):
    """The value v(0, x) and the averaged velocities (their range over the candidates)."""
    entries = members(result)
    last = entries[-1][1]
    if last["value"].ndim == 1:
        left, right = fig.subplots(1, 2)
        for label, sub in entries:
            line(left, sub, "value", label)
        left.set_ylabel("v(0, x)" if result.kind == "effective" else "value of entropic gradient descent")
        _legend(left, entries)
        if "velocities" in last.data:
            x = last.coords[last.dims["value"][0]]
            vel = last["velocities"][..., 0]
            right.fill_between(x, vel.min(axis=1), vel.max(axis=1), alpha=0.3, label="reachable velocities")
            right.plot(x, vel.min(axis=1), lw=1)
            right.plot(x, vel.max(axis=1), lw=1)
            right.axhline(0.0, color="k", lw=0.5)
            right.set_xlabel(last.dims["value"][0])
            right.set_ylabel("averaged velocity")
            right.legend(fontsize="small")
    else:
        left, right = fig.subplots(1, 2)
        image(fig, left, last, "value")
        if "velocities" in last.data:
            speed = Result(last.kind, coords=last.coords)
            speed.add("max speed", np.linalg.norm(last["velocities"], axis=-1).max(axis=-1), last.dims["value"])
            image(fig, right, speed, "max speed", cmap="magma")


@plotter("hbar")
def _hbar(fig, result: Result):
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


def _delta_omega(sub: Result):
    """(result, name) of delta * omega when delta is known (it tends to -H-bar inside
    D_n and shows the boundary layer), else of omega itself."""
    delta = sub.attrs.get("delta")
    if not isinstance(delta, (int, float)):
        return sub, "omega"
    scaled = Result(sub.kind, coords=sub.coords, attrs=sub.attrs)
    scaled.add("δ ω", delta * sub["omega"], sub.dims["omega"])
    return scaled, "δ ω"


@plotter("cell")
def _cell(fig, result: Result):
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


@plotter("sde")
def _sde(fig, result: Result):
    """The histogram of X_T (the entropic gradient descent x_hat_T marked when stored)."""
    ax = fig.subplots()
    for label, sub in members(result):
        X = sub["X_T"]
        X = X[:, None] if X.ndim == 1 else X
        text = label
        if "g_X_T" in sub.data:
            text = f"{label} E g(X_T) = {np.mean(sub['g_X_T']):.4g}".strip()
        if X.shape[1] == 1:
            ax.hist(X[:, 0], bins="auto", density=True, alpha=0.5, label=text)
            ax.set_xlabel("X_T")
            ax.set_ylabel("density")
        else:
            ax.hist2d(X[:, 0], X[:, 1], bins=60, density=True)
            ax.set_xlabel("X_T,1")
            ax.set_ylabel("X_T,2")
            ax.set_title(text, fontsize="medium")
        if "x_hat_T" in sub.attrs and X.shape[1] == 1:
            first = label == members(result)[0][0]
            ax.axvline(float(np.ravel(sub.attrs["x_hat_T"])[0]), color="k", ls="--",
                       label="x̂_T (entropic gradient descent)" if first else None)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def _generic(fig, result: Result):
    """``value`` if present, else the first dataset: a line (1 axis) or an image."""
    entries = members(result)
    last = entries[-1][1]
    name = "value" if "value" in last.data else next((n for n, v in last.data.items() if v.ndim >= 1), None)
    ax = fig.subplots()
    if name is None:
        ax.text(0.5, 0.5, "nothing to plot", ha="center")
        return
    if last[name].ndim >= 2:
        image(fig, ax, last, name)
    else:
        for label, sub in entries:
            line(ax, sub, name, label)
        _legend(ax, entries)


@plotter("viscous_hj", "hopf_lax")
def _hj_value(fig, result: Result):
    """u(x, t), one curve per member (the Cole-Hopf reference dashed when stored)."""
    entries = members(result)
    if result.kind == "hopf_lax" or entries[-1][1]["value"].ndim != 1:
        _generic(fig, result)
    else:
        ax = fig.subplots()
        for label, sub in entries:
            line(ax, sub, "value", label)
            if "cole_hopf" in sub.data:
                ax.plot(sub.coords[sub.dims["value"][0]], sub["cole_hopf"], "k--", lw=0.8,
                        label="Cole-Hopf" if label == entries[0][0] else None)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    for ax in fig.axes:
        if ax.get_ylabel().startswith("value"):
            ax.set_ylabel(ax.get_ylabel().replace("value", "u(x, t)", 1))


# ------------------------------------------------------------------ output

def figure(result: Result) -> Figure:
    """The natural picture of ``result`` as a matplotlib Figure."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    PLOTTERS.get(result.kind, _generic)(fig, result)
    if sum(ax.get_label() != "<colorbar>" for ax in fig.axes) == 1:
        fig.set_size_inches(8, 5.5)
    fig.suptitle(title(result), fontsize="medium")
    return fig


def save_figure(result: Result, path, force: bool = False) -> str:
    """Draw ``result`` and write the figure atomically (format from the extension)."""
    _check_target(path, force)
    return write_figure(figure(result), path, force=force)


def _check_target(path, force: bool) -> str:
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise InputError(path, f"unknown figure format '{fmt}'; use one of {', '.join(FORMATS)}")
    if os.path.exists(path) and not force:
        raise InputError(path, "exists already; pass --force to overwrite it")
    return fmt


def write_figure(fig: Figure, path, force: bool = True) -> str:
    """Write any Figure atomically: a temporary file beside ``path``, then a rename."""
    path = os.fspath(path)
    fmt = _check_target(path, force)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=120)
    return path


# ------------------------------------------------------------------ figures for scripts and notebooks

def new_figure(panels: int = 1, size=(6.0, 4.0)):
    """A Figure (Agg canvas, no pyplot state) and its axes in one row."""
    fig = Figure(figsize=(size[0] * panels, size[1]), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, panels)
    return fig, np.atleast_1d(axes)


def convergence(series: dict, xlabel: str, ylabel: str, title: str, slopes=(1,)) -> Figure:
    """Log-log errors ``{label: (sizes, errors)}`` with dashed reference slopes.

    Each reference line of slope p passes through the first point of the first
    series, so an observed order reads off as parallelism.
    """
    fig, (ax,) = new_figure()
    for label, (sizes, errors) in series.items():
        ax.loglog(sizes, errors, "o-", label=label)
    sizes, errors = (np.asarray(v, float) for v in next(iter(series.values())))
    span = np.array([sizes.min(), sizes.max()])
    anchor = sizes[0]
    for p in slopes:
        ax.loglog(span, 0.5 * errors[0] * (span / anchor) ** p, "k--", lw=0.8, alpha=0.7, label=f"slope {p:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    return fig


def curve_panels(x, panels: dict, xlabel: str, ylabel: str, title: str, xlim=None) -> Figure:
    """One panel per entry ``{panel title: {curve label: values}}`` over the common x."""
    fig, axes = new_figure(len(panels), size=(5.0, 4.0))
    for ax, (name, curves) in zip(axes, panels.items()):
        for label, values in curves.items():
            ax.plot(x, values, lw=1.2, label=label)
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel(xlabel)
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.legend(fontsize="small")
    axes[0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize="medium")
    return fig


def cell_error_map(maps: dict, radii, exponents, fixed) -> Figure:
    """|delta omega^n(0) + H-bar| over the (n, delta) plane: one map per model for
    delta = n^-k (the theorem's k = 4 + alpha dashed), and the fixed-delta curves."""
    fig, axes = new_figure(len(maps) + 1, size=(3.7, 4.2))
    for ax, (name, errors) in zip(axes, maps.items()):
        im = ax.pcolormesh(radii, exponents, np.log10(np.maximum(errors[:, :len(exponents)].T, 1e-8)),
                           shading="nearest", cmap="viridis", vmin=-8, vmax=0)
        ax.set_xlabel("n (radius of D_n)")
        ax.set_ylabel("k in delta = n^-k")
        ax.set_title(f"{name}: log10 |delta omega(0) + H-bar|", fontsize="medium")
        ax.axhline(4.5, color="w", ls="--", lw=0.8)
        fig.colorbar(im, ax=ax)
    ax = axes[-1]
    for name, errors in maps.items():
        for j, d in enumerate(fixed):
            ax.semilogy(radii, errors[:, len(exponents) + j], marker="o", label=f"{name}, delta = {d:g}")
        k1 = exponents.index(1.0) if 1.0 in exponents else 0
        ax.semilogy(radii, errors[:, k1], ls=":", label=f"{name}, delta = 1/n")
    ax.set_xlabel("n")
    ax.set_title("fixed delta: error stalls at O(delta)", fontsize="medium")
    ax.legend(fontsize="x-small")
    return fig
