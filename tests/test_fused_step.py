"""The compiled cubic eps-HJB step (hjb.operators.fused_step, hjb.operators.foot_cells): the
same numbers as the numpy step, bit for bit, in d = 1 and d = 2, with the filter and the
corrections active; its plain-Python kernels checked the same way without numba; the feet
cells against the interpolation matrices; the switch and the memory they save."""
import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import hjb
from hjb.operators import fused_step, thomas
from hjb.operators.foot_cells import foot_cells
from hjb.operators.interpolation import cubic_foot_interpolation, cubic_weights
from hjb.operators.transport import foot_interpolation
from hjb.solvers import eps_hjb_step
from hjb.solvers.eps_hjb_memory import memory_estimate
from hjb.solvers.eps_hjb_step import EpsHJBStep


def grids(d):
    """Unequal x- and y-shapes, so that a stride or an axis mixed up shows."""
    x = hjb.Grid.box([-5.0] * d, [5.0] * d, [13, 9][:d] if d == 2 else [41])
    y = hjb.Grid.box([-4.0] * d, [4.0] * d, [7, 6][:d] if d == 2 else [33], name="y")
    return x, y


def rough_value(shape, seed=0):
    """A random walk along the first x-axis: the filter caps the cubic feet at some nodes."""
    return np.cumsum(np.random.default_rng(seed).normal(size=shape), axis=0) * 3.0


def step_pair(d, splitting, eps, dt=0.05, controls=(0.0, 1.0)):
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow", dim=d), gamma=5.0, controls=controls)
    gx, gy = grids(d)
    return [EpsHJBStep.build(model, gx, gy, eps, dt, interpolation="cubic", splitting=splitting, accelerate=flag)
            for flag in (False, True)]


def assert_filter_active(step, value):
    """Some feet are capped by the filter, some not: both branches of the kernel run."""
    flat = value.ravel()
    gaps = [np.abs(C @ flat - S @ flat) for S, C in zip(step.moves, step.cubic) if S is not None]
    assert any(np.any(g > step.bound) for g in gaps) and any(np.any(g < step.bound) for g in gaps)


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("splitting", ["corrected", "lie"])
@pytest.mark.parametrize("eps", [1e-4, 1.0])
def test_the_compiled_step_is_the_numpy_step_bit_for_bit(d, splitting, eps):
    pytest.importorskip("numba")
    plain, compiled = step_pair(d, splitting, eps)
    assert plain.kernels is None and compiled.kernels is not None
    value = rough_value(plain.shape, seed=d)
    assert_filter_active(plain, value)
    for _ in range(3):
        expected = plain(value)
        np.testing.assert_array_equal(compiled(value), expected)
        value = expected


def test_two_moving_controls_are_minimised_over_bit_for_bit():
    """U = [0.5, 1]: both ends move x (at different speeds), so u* switches between two
    displacements (the slots of both are used)."""
    pytest.importorskip("numba")
    plain, compiled = step_pair(1, "corrected", 1e-4, controls=(0.5, 1.0))
    assert plain.slots == (0, 1)
    value = rough_value(plain.shape, seed=9)
    best = plain._buffer("best", (value.size,), np.intp)
    plain(value)
    assert 0 < np.mean(best) < 1                               # both controls win somewhere
    for _ in range(3):
        expected = plain(value)
        np.testing.assert_array_equal(compiled(value), expected)
        value = expected


@pytest.mark.parametrize("d", [1, 2])
def test_the_plain_python_kernels_are_the_numpy_step_bit_for_bit(d, monkeypatch):
    """The kernels' source, run by Python itself (no numba needed): one corrected step."""
    def python_kernels(dim):
        return SimpleNamespace(filtered_minimum=fused_step.filtered_minimum_kernel(dim),
                               gather_moments=fused_step.gather_moments_kernel(),
                               corrected_values=fused_step.corrected_values_kernel())
    monkeypatch.setattr(eps_hjb_step, "compiled_kernels", python_kernels)
    plain, python = step_pair(d, "corrected", 1e-4)
    value = rough_value(plain.shape, seed=5)
    assert_filter_active(plain, value)
    np.testing.assert_array_equal(python(value), plain(value))


@pytest.mark.parametrize("shape, axes", [((30, 7), (0,)), ((9, 8, 5, 6), (0, 1)), ((6, 7, 5), (0, 2))])
def test_the_feet_cells_hold_the_matrices(shape, axes):
    """Each row of the linear and the cubic matrix is the stencil of its cell: the corners'
    columns, in order, and the weights of the cell's offsets (products over the axes of
    1 - t, t and of the cubic Lagrange weights)."""
    rng = np.random.default_rng(len(shape))
    velocity = rng.normal(size=shape + (len(axes),)) * 3
    spacings = np.array([0.1, 0.3][:len(axes)])
    cells = foot_cells(shape, axes, spacings, velocity, 0.7)
    for matrix, origin, corners in ((foot_interpolation(shape, axes, spacings, velocity, 0.7),
                                     cells.linear_origin, cells.linear_corners),
                                    (cubic_foot_interpolation(shape, axes, spacings, velocity, 0.7),
                                     cells.cubic_origin, cells.cubic_corners)):
        columns = matrix.indices.reshape(-1, len(corners))
        np.testing.assert_array_equal(columns, origin.astype(np.int64)[:, None] + corners.astype(np.int64)[None])
    linear = [np.stack([1.0 - t, t]) for t in cells.linear_offset]
    cubic = [np.stack(cubic_weights(t)) for t in cells.cubic_offset]
    for matrix, weights, width in ((foot_interpolation(shape, axes, spacings, velocity, 0.7), linear, 2),
                                   (cubic_foot_interpolation(shape, axes, spacings, velocity, 0.7), cubic, 4)):
        expected = [np.prod([weights[a][c] for a, c in enumerate(corner)], axis=0)
                    for corner in itertools.product(range(width), repeat=len(axes))]
        np.testing.assert_array_equal(matrix.data.reshape(-1, width ** len(axes)), np.stack(expected, axis=1))
    assert np.all((cells.linear_offset >= 0) & (cells.linear_offset <= 1))
    assert np.all((cells.cubic_offset >= -1) & (cells.cubic_offset <= 2))      # shifted inward at the walls
    assert cells.linear_origin.dtype == np.uint32


def test_hjb_numba_0_keeps_the_numpy_step(monkeypatch):
    monkeypatch.setenv("HJB_NUMBA", "0")
    caches = (fused_step.compiled_kernels, thomas.compiled_kernel)     # both read HJB_NUMBA once
    for cache in caches:
        cache.cache_clear()
    try:
        model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
        gx, gy = grids(1)
        monkeypatch.setattr(eps_hjb_step, "COMPILED_STEP_NODES", 0)      # compiled, were numba on
        step = EpsHJBStep.build(model, gx, gy, 1e-4, 0.05, interpolation="cubic", splitting="corrected",
                                steps=10**9)
        assert step.kernels is None and step.moves[1] is not None and hasattr(step.moves[1], "indptr")
        with pytest.raises(ImportError, match="numba"):
            EpsHJBStep.build(model, gx, gy, 1e-4, 0.05, interpolation="cubic", accelerate=True)
    finally:
        monkeypatch.delenv("HJB_NUMBA")
        for cache in caches:
            cache.cache_clear()


def test_the_kernels_are_chosen_by_the_grid(monkeypatch):
    """By the size of the grid alone (the memory estimate knows it before the steps are planned)."""
    pytest.importorskip("numba")
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    gx, gy = grids(1)
    build = dict(interpolation="cubic", splitting="corrected", steps=10**6)
    assert EpsHJBStep.build(model, gx, gy, 1e-4, 0.05, **build).kernels is None          # 1353 nodes
    monkeypatch.setattr(eps_hjb_step, "COMPILED_STEP_NODES", gx.size * gy.size)
    assert EpsHJBStep.build(model, gx, gy, 1e-4, 0.05, **build).kernels is not None
    assert EpsHJBStep.build(model, gx, gy, 1e-4, 0.05, interpolation="linear").kernels is None


def test_the_compiled_step_needs_no_matrices(monkeypatch):
    """A grid that runs compiled is estimated with the cells of its feet (24 bytes a node and
    moving control in d = 1) instead of a linear and a cubic matrix (80) and their assembly:
    0.74 of the numpy step's estimate here (measured peaks: 481 and 588 MiB, 0.82; the estimates
    1.19 and 1.32 of them)."""
    pytest.importorskip("numba")
    model = hjb.DeepRelaxation(hjb.make_loss("wide_narrow"), gamma=5.0)
    gx, gy = hjb.Grid.box(-5.0, 5.0, 1601), hjb.Grid.box(-5.0, 5.0, 1601, name="y")
    compiled = memory_estimate(model, gx, gy, splitting="corrected", interpolation="cubic")
    monkeypatch.setenv("HJB_NUMBA", "0")
    plain = memory_estimate(model, gx, gy, splitting="corrected", interpolation="cubic")
    assert compiled < 0.8 * plain
