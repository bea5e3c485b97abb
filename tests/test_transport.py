import numpy as np

from hjb.operators.transport import CharacteristicTransport, foot_interpolation


def test_below_courant_one_the_step_is_the_upwind_difference():
    rng = np.random.default_rng(0)
    n, h = 41, 0.05
    v = rng.normal(size=n)
    v[[0, -1]] = [abs(v[0]), -abs(v[-1])]          # inflow at both walls
    values = rng.normal(size=n)
    term = CharacteristicTransport((n,), (0,), np.array([h]), [v[:, None]])
    dt = 0.9 * term.courant_step()
    got = CharacteristicTransport.apply(term.operators(dt), values)
    forward = np.append(np.diff(values), 0.0) / h
    backward = np.insert(np.diff(values), 0, 0.0) / h
    upwind = values + dt * np.where(v > 0, v * forward, v * backward)
    np.testing.assert_allclose(got, upwind, rtol=1e-13, atol=1e-13)


def test_interpolation_rows_are_convex_weights_in_two_dimensions():
    rng = np.random.default_rng(1)
    shape = (9, 7, 5)                                # two transported axes and one carried axis
    vel = rng.normal(scale=3.0, size=shape + (2,))
    S = foot_interpolation(shape, (0, 1), np.array([0.1, 0.2]), vel, 0.4)
    assert S.min() >= 0.0
    np.testing.assert_allclose(np.asarray(S.sum(axis=1)).ravel(), 1.0, rtol=1e-14)
    # the carried axis is never mixed
    coo = S.tocoo()
    assert np.all(coo.row % 5 == coo.col % 5)


def test_linear_functions_are_transported_exactly():
    shape = (30, 20)
    x = np.linspace(0, 1, 30)[:, None] * np.ones(shape)
    y = np.linspace(0, 2, 20)[None, :] * np.ones(shape)
    vel = np.stack([0.1 * np.ones(shape), -0.05 * np.ones(shape)], axis=-1)
    vel[-3:, :, 0] = 0.0                            # keep the feet inside the box
    vel[:, :3, 1] = 0.0
    S = foot_interpolation(shape, (0, 1), np.array([1 / 29, 2 / 19]), vel, 0.7)
    f = 2 * x - 3 * y
    expected = 2 * (x + 0.7 * vel[..., 0]) - 3 * (y + 0.7 * vel[..., 1])
    np.testing.assert_allclose((S @ f.ravel()).reshape(shape), expected, atol=1e-12)
