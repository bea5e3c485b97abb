"""Uniform tensor grids on boxes: one Axis per coordinate, one Grid per variable block."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError


def coordinate_names(name: str, dim: int) -> list:
    """'x' in d = 1, 'x1', 'x2', ... in higher dimension (SPEC section 10); likewise for y."""
    return [name] if dim == 1 else [f"{name}{k + 1}" for k in range(dim)]


@dataclass(frozen=True)
class Axis:
    lower: float
    upper: float
    points: int

    @property
    def nodes(self) -> np.ndarray:
        return np.linspace(self.lower, self.upper, self.points)

    @property
    def step(self) -> float:
        return (self.upper - self.lower) / (self.points - 1)


@dataclass(frozen=True)
class Grid:
    """A uniform tensor grid on a box, for one variable block (x or y).

    Build it with :meth:`Grid.box`.  Node k of axis i is ``lower_i + k h_i``,
    ``h_i = (upper_i - lower_i) / (points_i - 1)``; both ends are nodes.

    Parameters
    ----------
    axes : tuple of Axis
        One :class:`hjb.grid.Axis` (lower, upper, points) per coordinate.
    name : str, default "x"
        The variable block: it names the coordinates ("x" in d = 1; "x1",
        "x2", ... in d >= 2; likewise "y"), as in result files (SPEC section 10).

    Example
    -------
    >>> import hjb
    >>> grid = hjb.Grid.box(-1.0, 1.0, 5)
    >>> grid.shape, grid.spacings, grid.coordinate_names
    ((5,), array([0.5]), ['x'])
    >>> grid.nodes()[:, 0]
    array([-1. , -0.5,  0. ,  0.5,  1. ])
    >>> box = hjb.Grid.box([-1, 0], [1, 2], [5, 3], name="y")
    >>> box.shape, box.coordinate_names, box.nodes().shape
    ((5, 3), ['y1', 'y2'], (5, 3, 2))
    """

    axes: tuple
    name: str = "x"

    @classmethod
    def box(cls, lower, upper, points, name: str = "x", key: str | None = None) -> "Grid":
        """A grid from its bounds and point counts: scalars (d = 1) or equal-length lists.

        Parameters
        ----------
        lower, upper : float or list of float
            The box, one entry per axis (upper > lower).
        points : int or list of int
            Nodes per axis, both ends included (at least 3).
        name : str, default "x"
            The variable block ("x" or "y").
        key : str, optional
            The case key errors name (default ``grid.<name>``).

        Returns
        -------
        Grid

        Raises
        ------
        InputError
            Lists of different lengths, fewer than 3 points, or upper <= lower.
        """
        key = key or f"grid.{name}"
        lower, upper, points = (np.atleast_1d(np.asarray(v)) for v in (lower, upper, points))
        if not len(lower) == len(upper) == len(points):
            raise InputError(key, "lower, upper and points must have the same length")
        axes = []
        for lo, hi, n in zip(lower, upper, points):
            if float(n) != int(n) or int(n) < 3:
                raise InputError(f"{key}.points", f"needs at least 3 points per axis, got {n}")
            if not float(hi) > float(lo):
                raise InputError(key, f"upper = {float(hi):g} must exceed lower = {float(lo):g}")
            axes.append(Axis(float(lo), float(hi), int(n)))
        return cls(tuple(axes), name)

    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple:
        return tuple(a.points for a in self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def spacings(self) -> np.ndarray:
        """The node spacing h_k of each axis."""
        return np.array([a.step for a in self.axes])

    @property
    def lower(self) -> np.ndarray:
        return np.array([a.lower for a in self.axes])

    @property
    def upper(self) -> np.ndarray:
        return np.array([a.upper for a in self.axes])

    @property
    def coordinate_names(self) -> list:
        return coordinate_names(self.name, self.dim)

    def coordinates(self) -> dict:
        return {n: a.nodes for n, a in zip(self.coordinate_names, self.axes)}

    def nodes(self) -> np.ndarray:
        """All nodes, shape (*shape, d)."""
        return np.stack(np.meshgrid(*(a.nodes for a in self.axes), indexing="ij"), axis=-1)

    def sample(self, points: int = 17) -> np.ndarray:
        """At most ``points`` nodes per axis of the box (its corners included), shape (m, d):
        what an estimate evaluates instead of every node (before a big grid is allocated)."""
        return Grid.box(self.lower, self.upper, np.minimum(self.shape, points)).nodes().reshape(-1, self.dim)

    def contains(self, other: "Grid") -> bool:
        return bool(np.all(other.lower >= self.lower - 1e-12) and np.all(other.upper <= self.upper + 1e-12))

    def locate(self, point) -> tuple:
        """Index of the node nearest to ``point``."""
        point = np.broadcast_to(np.asarray(point, float), (self.dim,))
        return tuple(int(np.clip(round((p - a.lower) / a.step), 0, a.points - 1))
                     for p, a in zip(point, self.axes))
