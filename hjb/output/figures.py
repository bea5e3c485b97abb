"""Figures: the natural picture of a result, and the figures of scripts and notebooks.

Figures are built with :class:`matplotlib.figure.Figure` and rendered by Agg,
so nothing here touches pyplot's global state (safe in scripts, workers and
notebooks alike); :func:`write_figure` writes atomically.

    from hjb.output.figures import figure
    fig = figure(hjb.load("results/wide_narrow.h5"))
"""
from __future__ import annotations

import os
from typing import Callable, Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import InputError
from .atomic import atomic_path
from .plots import generic, title
from .result import Result

FORMATS = ("png", "pdf", "svg")


def figure(result: Result, draw: Optional[Callable] = None) -> Figure:
    """The picture of ``result`` drawn by ``draw(fig, result)`` (default: a line or an image of
    its main dataset; :func:`hjb.runner.show.picture` passes the kind's own picture)."""
    draw = draw or generic
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig, result)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    if len(panels) == 1:
        fig.set_size_inches(8, 5.5)
    for ax in panels:                             # one size for every panel title
        if ax.get_title() and ax.title.get_fontsize() > ax.xaxis.label.get_fontsize():
            ax.title.set_fontsize("medium")
    if any(ax.get_aspect() == 1.0 for ax in panels):
        fig.set_layout_engine("compressed")      # equal-aspect images centred, colour bars beside them
    fig.suptitle(title(result), fontsize="medium")
    return fig


def save_figure(result: Result, path, force: bool = False, draw: Optional[Callable] = None) -> str:
    """Draw ``result`` and write the figure atomically (format from the extension)."""
    _check_target(path, force)
    return write_figure(figure(result, draw), path, force=force)


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
    import matplotlib
    colours = matplotlib.colormaps["tab10" if len(series) <= 10 else "tab20"]
    markers = "osD^v<>ph*"
    for k, (label, (sizes, errors)) in enumerate(series.items()):
        ax.loglog(sizes, errors, "-", marker=markers[k % len(markers)], color=colours(k % colours.N), label=label)
    sizes, errors = (np.asarray(v, float) for v in next(iter(series.values())))
    span = np.array([sizes.min(), sizes.max()])
    anchor = sizes[0]
    for p, style in zip(slopes, ["--", ":", "-."] * len(slopes)):
        ax.loglog(span, 0.5 * errors[0] * (span / anchor) ** p, "k" + style, lw=0.8, alpha=0.7, label=f"slope {p:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    if len(series) > 6:                  # many series: the legend beside the axes, not over the data
        fig.set_size_inches(fig.get_size_inches()[0] * 1.6, fig.get_size_inches()[1])
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
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
    error = r"$|\delta\omega(0) + \bar{H}|$"
    for ax, (name, errors) in zip(axes, maps.items()):
        im = ax.pcolormesh(radii, exponents, np.log10(np.maximum(errors[:, :len(exponents)].T, 1e-8)),
                           shading="nearest", cmap="viridis", vmin=-8, vmax=0)
        ax.set_xlabel("$n$ (radius of $D_n$)")
        ax.set_ylabel(r"$k$ in $\delta = n^{-k}$")
        ax.set_title(name, fontsize="medium")
        ax.axhline(4.5, color="w", ls="--", lw=0.8)
        fig.colorbar(im, ax=ax, label=r"$\log_{10}$" + error)
    ax = axes[-1]
    for name, errors in maps.items():
        for j, d in enumerate(fixed):
            ax.semilogy(radii, errors[:, len(exponents) + j], marker="o", label=rf"{name}, $\delta = {d:g}$")
        k1 = exponents.index(1.0) if 1.0 in exponents else 0
        ax.semilogy(radii, errors[:, k1], ls=":", label=rf"{name}, $\delta = 1/n$")
    ax.set_xlabel("$n$")
    ax.set_ylabel(error)
    ax.set_title(r"fixed $\delta$: the error stalls at $O(\delta)$", fontsize="medium")
    ax.legend(fontsize="x-small")
    return fig
