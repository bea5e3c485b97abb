"""One backward step of the eps-HJB equation (:class:`EpsHJBStep`) and its options; its terms on
the product grid are :mod:`hjb.solvers.product_grid`, and :mod:`hjb.solvers.eps_hjb` marches it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import InputError
from ..grid import Grid
from ..model import TwoScaleModel
from ..operators.averaging_correction import averaging_correction, drift_correction, moment_products, split_covariance
from ..operators.accelerator import numba_or_none
from ..operators.fast_solve import factorize
from ..operators.filtered import filter_function, filtered
from ..operators.fused_step import compiled_kernels, correction_stencil
from ..operators.transport import CharacteristicTransport
from .product_grid import fast_matrix, slow_transport


@dataclass
class EpsHJBStep:
    """One backward step of size dt: V <- (I - (dt/eps) L_y)^{-1} min_u S_u V.

    ``moves`` are the interpolation matrices S_u of the slow transport at step dt (with
    the compiled kernels, the cells of the feet, :class:`hjb.operators.foot_cells.FootCells`,
    from which the kernels interpolate both linearly and cubically; ``cubic`` is then the same list),
    ``implicit`` the LU factors of the fast M-matrix; both are built once by
    :meth:`build` and reused every step.  With ``interpolation="linear"`` the step is
    monotone (raising V raises the result) and keeps constants.  With "cubic" each
    foot value is the filtered one (:mod:`hjb.operators.filtered`),

        S_u V + bound F((C_u V - S_u V) / bound),    bound = FILTER_CONSTANT sqrt(h) dt,

    C_u the cubic interpolation (:mod:`hjb.operators.interpolation`): the cubic value
    wherever it is within 'bound' of the linear one.  Since the implicit solve is
    monotone and non-expansive in the max norm, the step stays within 'bound' of the
    monotone step, a perturbation that vanishes as h -> 0 (T / dt steps of c sqrt(h) dt),
    so the scheme still converges to the viscosity solution; it keeps constants, and its
    result is clipped to the range [min V, max V] of its data, as the monotone step's is.  With
    ``splitting="corrected"`` (cubic only) it then subtracts bound F(w (A - B) / bound), A the
    averaging correction and B the drift correction of :mod:`hjb.operators.averaging_correction`
    (u* the control of the smallest filtered foot; w = a / (1 + a), a = dt / eps): within
    2 bound of the monotone step, so still convergent.

    The cubic steps' elementwise work runs in numpy, or fused in the compiled kernels of
    :mod:`hjb.operators.fused_step` (``kernels``; bit for bit the same numbers).
    """

    moves: list
    implicit: object
    shape: tuple
    cubic: Optional[list] = None
    bound: float = 0.0
    displacements: Optional[np.ndarray] = None   # dt phi of the controls that move x, (n_u, d, N): the correction's
    slots: tuple = ()                       # per control, its row of displacements, or -1 (phi = 0)
    spacings: tuple = ()
    mixing: float = 0.0                     # dt / eps
    kernels: object = None                  # the compiled kernels (fused_step.compiled_kernels()) or None: numpy
    stencil: tuple = ()                     # their stencil of the correction (fused_step.correction_stencil)
    _scratch: dict = field(default_factory=dict, init=False, repr=False, compare=False)   # reused each step

    @classmethod
    def build(cls, model: TwoScaleModel, x_grid: Grid, y_grid: Grid, eps: float, dt: float,
              y_scheme: str = "fitted", transport: Optional[CharacteristicTransport] = None,
              interpolation: str = "linear", splitting: str = "lie", steps: int = 1,
              accelerate: Optional[bool] = None) -> "EpsHJBStep":
        """The step's operators, built once.  ``accelerate``: the compiled kernels of the cubic
        step (True), numpy (False), or the kernels when numba imports and the grid has
        :data:`COMPILED_STEP_NODES` nodes (None: :func:`compiled_step_chosen`); only the cubic
        step has kernels (the linear one, a sparse product and a solve, ignores it).  ``steps``:
        how many steps the factors serve (they choose their own kernel by it)."""
        check_interpolation(interpolation)
        check_splitting(splitting, interpolation)
        transport = transport or slow_transport(model, x_grid, y_grid)
        shape = x_grid.shape + y_grid.shape
        d = model.dim
        size = int(np.prod(shape))
        implicit = factorize(fast_matrix(model, x_grid, y_grid, dt / eps, y_scheme), blocks=x_grid.size, solves=steps)
        if has_cubic_feet(interpolation, x_grid.shape):
            bound = FILTER_CONSTANT * np.sqrt(float(np.max(x_grid.spacings))) * dt
            spacings = tuple(float(h) for h in x_grid.spacings)
            kernels = accelerated_kernels(accelerate, size, x_grid.shape)
            displacements, slots, stencil = None, (), ()
            if splitting == "corrected":        # dt phi(x, y, u) of each control that moves x, (d, N)
                moving = [bool(np.any(v)) for v in transport.velocities]
                slots = tuple(int(sum(moving[:k])) if m else -1 for k, m in enumerate(moving))
                displacements = np.empty((sum(moving), d, size))
                for slot, v in zip(slots, transport.velocities):
                    if slot >= 0:
                        np.multiply(dt, np.asarray(v).reshape(-1, d).T, out=displacements[slot])
                if kernels is not None:
                    stencil = correction_stencil(shape, spacings, correction_weight(dt / eps) / bound)
            if kernels is None:
                moves, cubic = transport.operators(dt), transport.operators(dt, "cubic")
            else:                               # the kernels interpolate from the cells: no matrices
                moves = cubic = transport.cells(dt)
            return cls(moves, implicit, shape, cubic, bound, displacements, slots, spacings, dt / eps, kernels, stencil)
        return cls(transport.operators(dt), implicit, shape)

    def __call__(self, value: np.ndarray) -> np.ndarray:
        if self.cubic is None:
            moved = CharacteristicTransport.apply(self.moves, value)
            return self.implicit.solve(moved.ravel()).reshape(self.shape)
        flat = value.ravel()
        low, high = float(np.min(flat)), float(np.max(flat))
        if self.displacements is None:
            moved = np.empty(flat.size)
            self._filtered_feet(flat, moved)
            new = self.implicit.solve(moved).reshape(self.shape)
        else:
            new = self._corrected(flat, TIE * max(abs(low), abs(high), 1.0))
        # the maximum principle of the monotone step (no new global extremum): the filtered
        # feet and, more, the central D_xx V of the correction over one cell can overshoot at a
        # convex kink (the edge of the region where min g is reached: the corrected step went
        # 0.009 below min g at 401^2 on the hard case)
        return np.clip(new, low, high, out=new)

    def _buffer(self, name: str, shape: tuple, dtype=float) -> np.ndarray:
        """A scratch array kept from step to step (a fresh one each step costs its page faults)."""
        if name not in self._scratch:
            self._scratch[name] = np.empty(shape, dtype=dtype)
        return self._scratch[name]

    def _filtered_feet(self, flat: np.ndarray, moved: np.ndarray, best: Optional[np.ndarray] = None,
                       tie: float = 0.0) -> None:
        """min over the controls of the filtered foot values, into ``moved``; with ``best``, the
        index of the minimising control too (a later control only if lower by more than ``tie``)."""
        for k, (S, C) in enumerate(zip(self.moves, self.cubic)):
            if S is not None and self.kernels is not None:      # S = C: the FootCells
                self.kernels.filtered_minimum(flat, S.linear_origin, S.linear_offset, S.cubic_origin, S.cubic_offset,
                                              S.linear_corners, S.cubic_corners, self.bound, k, tie, moved,
                                              NO_CONTROL if best is None else best, best is not None)
                continue
            foot = flat if S is None else filtered(S @ flat, C @ flat, self.bound)
            if k == 0:
                moved[:] = foot
                if best is not None:
                    best[:] = 0
                continue
            if best is not None:
                best[foot < moved - tie] = k
            np.minimum(moved, foot, out=moved)

    def _corrected(self, flat: np.ndarray, tie: float) -> np.ndarray:
        """F V* - bound F(w (A - B) / bound) (:mod:`hjb.operators.averaging_correction`):
        V* and the moments of delta = dt phi(x, y, u*) are the rows of one right-hand side, solved at once.
        u* for the correction: a later control only if lower than the running minimum by more
        than ``tie`` = TIE max |V| (V carries the implicit solve's round-off, up to 1e-8 relative),
        so that feet equal up to round-off do not pick displacements at random across y."""
        d = len(self.spacings)
        rows = self._buffer("rows", (1 + d + d * (d + 1) // 2, flat.size))
        best = self._buffer("best", (flat.size,), np.intp)
        self._filtered_feet(flat, rows[0], best, tie)
        if self.kernels is not None:
            _, _, _, pair_i, pair_j = self.stencil[:5]
            self.kernels.gather_moments(best, np.array(self.slots, dtype=np.intp), self.displacements, rows,
                                        pair_i, pair_j)
            solved = self.implicit.solve(rows.T).T
            out = np.empty(flat.size)
            self.kernels.corrected_values(solved, *self.stencil, self.bound, out)
            return out.reshape(self.shape)
        displacement = rows[1:1 + d]
        displacement[:] = 0.0
        for k, slot in enumerate(self.slots):
            if slot >= 0:
                np.copyto(displacement, self.displacements[slot], where=best == k)
        moment_products(displacement, out=rows[1 + d:])
        solved = self.implicit.solve(rows.T).T                  # the rows, solved together
        new = solved[0].reshape(self.shape)
        covariance = split_covariance(solved[1:1 + d], solved[1 + d:], out=solved[1 + d:])
        # the Taylor argument needs y mixed within a step (V then hardly depends on y across F's
        # kernel): weighted by a / (1 + a), a = dt / eps, it fades out as eps grows past dt.
        # Unweighted, where u* jumps in y C stays near delta^2 / 4 however small a is, and the
        # hard case went 0.24 below min g at eps = 1 (unstable at Courant 20); B, unweighted,
        # differences m across the x-nodes where u* switches (0.0062 against 0.0048 mean error)
        scale = correction_weight(self.mixing) / self.bound     # as the kernels' stencil holds it
        ratio = averaging_correction(new, covariance, self.spacings, scale)   # w A / bound
        ratio -= drift_correction(new, solved[1:1 + d], self.spacings, scale)  # - w B / bound
        return np.subtract(new, self.bound * filter_function(ratio), out=ratio)


#: The index array of the compiled feet kernel when u* is not tracked.
NO_CONTROL = np.zeros(1, dtype=np.intp)


def correction_weight(mixing: float) -> float:
    """w = a / (1 + a), a = dt / eps: the weight of the corrections A - B."""
    return mixing / (1.0 + mixing)


#: The compiled cubic step from this many nodes of the product grid, when numba imports: a
#: solve takes at least 20 steps (:data:`hjb.solvers.eps_hjb.MIN_STEPS`), and at 5e5 nodes
#: those save more than importing numba costs (0.55 s; the compiled step saves about 50 ns a
#: node and step).  Decided by the grid alone, so that the memory estimate, made before the
#: steps are planned, knows which step will run.
COMPILED_STEP_NODES = 5e5


def has_cubic_feet(interpolation: str, x_shape) -> bool:
    """Whether the step interpolates cubically (it needs 4 nodes along each x-axis)."""
    return interpolation == "cubic" and min(x_shape) >= 4


def compiled_step_chosen(size: int, interpolation: str, x_shape) -> bool:
    """Whether a solve on ``size`` nodes runs the compiled cubic step by default."""
    return has_cubic_feet(interpolation, x_shape) and size >= COMPILED_STEP_NODES and numba_or_none() is not None


def accelerated_kernels(accelerate: Optional[bool], size: int, x_shape):
    """The compiled kernels of the cubic step, or None (numpy): see :meth:`EpsHJBStep.build`."""
    if accelerate is None:
        accelerate = compiled_step_chosen(size, "cubic", x_shape)
    if not accelerate:
        return None
    kernels = compiled_kernels(len(x_shape))
    if kernels is None:
        raise ImportError("the compiled step needs numba (pip install hjb[fast]) and HJB_NUMBA not set to 0")
    return kernels


#: How the slow part interpolates at the feet: "cubic" (filtered against linear: high order
#: where V is smooth, convergent everywhere) or "linear" (monotone, first order: the reference).
INTERPOLATIONS = ("cubic", "linear")
DEFAULT_INTERPOLATION = "cubic"
#: c in the filter bound c sqrt(h) dt of the cubic interpolation.
FILTER_CONSTANT = 10.0


#: Feet values closer than this (relative to max |V|) count as tied when u* is picked for the
#: averaging correction (the first control wins).
TIE = 1e-8
#: How a step splits the slow and the fast part: "corrected" (Lie, minus the averaging
#: correction, capped by the filter: needs the cubic filtered feet) or "lie" (plain Lie).
SPLITTINGS = ("corrected", "lie")


def check_splitting(splitting: str, interpolation: str) -> None:
    if splitting not in SPLITTINGS:
        raise InputError("splitting", f"unknown splitting {splitting!r}; one of {', '.join(SPLITTINGS)}")
    if splitting == "corrected" and interpolation != "cubic":
        raise InputError("splitting", "'corrected' needs interpolation = 'cubic' (its filter caps the correction); "
                         "the linear scheme is the monotone reference: use splitting = 'lie'")


def default_splitting(interpolation: str) -> str:
    """'corrected' with the cubic filtered feet, 'lie' with the monotone linear ones."""
    return "corrected" if interpolation == "cubic" else "lie"


def check_interpolation(interpolation: str) -> None:
    if interpolation not in INTERPOLATIONS:
        raise InputError("interpolation", f"unknown interpolation {interpolation!r}; one of {', '.join(INTERPOLATIONS)}")
