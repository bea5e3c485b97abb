"""SGD as a diffusion (SPEC section 7): the SGD recursion checked against its exact moments,
exit iterations checked path by path, the Brownian-bridge correction of diffusion exit times
checked against an exact mean exit time, and the kind ``sgd`` end to end.

For the quadratic loss f = a/2 |x - c|^2 the recursion is linear,
X_{k+1} - c = (1 - eta a)(X_k - c) - eta sigma xi_k / sqrt(B), so X_k is Gaussian with
mean c + (1 - eta a)^k (x0 - c) and variance eta^2 sigma^2/B (1 - q^{2k})/(1 - q^2),
q = 1 - eta a, in every component.  Fixed seeds; intervals at 99.9 % (mean, variance).
"""
import numpy as np
import pytest

import hjb
from hjb.cli import main
from hjb.losses import Loss
from hjb.runner.case import case_from_dict
from hjb.runner.show import picture
from hjb.stochastic.confidence import exit_statistics, wilson
from hjb.stochastic.sgd import diffusion_exit_times, simulate_sgd

Z999 = 3.29


@pytest.mark.parametrize("dim, a, c", [(1, 1.0, 0.5), (2, 2.0, [0.5, -0.5])])
def test_mean_and_variance_of_the_linear_recursion(dim, a, c):
    loss = hjb.make_loss("quadratic", dim=dim, a=a, c=c)
    eta, sigma, batch, k, paths, x0 = 0.1, 1.5, 4, 15, 40000, np.full(dim, -1.0)
    run = simulate_sgd(loss, x0, eta, k, paths, batch=batch, sigma=sigma, seed=11)
    q = 1 - eta * a
    mean = loss.params["c"] + q**k * (x0 - loss.params["c"])
    var = eta**2 * sigma**2 / batch * (1 - q ** (2 * k)) / (1 - q**2)
    assert run.X.shape == (paths, dim) and run.exit_iteration is None and run.iterations_run == k
    np.testing.assert_array_less(np.abs(run.X.mean(axis=0) - mean), Z999 * np.sqrt(var / paths))
    # Gaussian samples: the sample variance has standard deviation var sqrt(2/(n - 1))
    np.testing.assert_array_less(np.abs(run.X.var(axis=0, ddof=1) - var), Z999 * var * np.sqrt(2 / (paths - 1)))
    assert run.beta == pytest.approx(2 * batch / (eta * sigma**2))


def test_gradient_descent_exits_at_the_right_iteration():
    """sigma = 0: X_k = 0.5^k from 1 (a = 1, eta = 0.5); |X_k - 1| > 0.8 first at k = 3."""
    loss = hjb.make_loss("quadratic", a=1.0, c=0.0)
    left = simulate_sgd(loss, 1.0, 0.5, 10, 3, sigma=0.0, exit_radius=0.8)
    np.testing.assert_array_equal(left.exit_iteration, [3, 3, 3])
    np.testing.assert_allclose(left.X[:, 0], 0.125)                  # stopped where it left
    assert left.iterations_run == 3 and left.stats["censored"] == 0
    stayed = simulate_sgd(loss, 1.0, 0.5, 10, 3, sigma=0.0, exit_radius=2.0)
    np.testing.assert_array_equal(stayed.exit_iteration, [-1, -1, -1])
    np.testing.assert_allclose(stayed.X[:, 0], 0.5**10)
    assert stayed.stats["censored"] == 3 and np.isnan(stayed.stats["mean_exit_iteration"])
    assert stayed.stats["exit_fraction_high"] < 0.75 and stayed.stats["mean_exit_iteration_lower_bound"] == 10


def test_exit_iterations_agree_with_the_paths_step_by_step():
    """The noise a path sees depends only on the seed, so runs of k = 1..K iterations
    without exits replay each path: its exit iteration is its first k outside the ball,
    and the stopped iterate is X_k (nothing changes when paths that left are dropped)."""
    loss, x0, r, K = hjb.make_loss("saddle_well", dim=2), [0.0, 0.0], 0.6, 60
    run = simulate_sgd(loss, x0, 0.1, K, 40, sigma=1.0, seed=5, exit_radius=r)
    trajectory = np.stack([simulate_sgd(loss, x0, 0.1, k, 40, sigma=1.0, seed=5).X for k in range(1, K + 1)])
    outside = np.linalg.norm(trajectory, axis=-1) > r                     # (K, paths)
    first = np.where(outside.any(axis=0), outside.argmax(axis=0) + 1, -1)
    np.testing.assert_array_equal(run.exit_iteration, first)
    assert 0 < (first > 0).sum() < 40                                      # some left, some did not
    for i, k in enumerate(first):
        np.testing.assert_array_equal(run.X[i], trajectory[k - 1 if k > 0 else -1, i])


def test_a_seed_reproduces_a_run():
    loss = hjb.make_loss("double_well")
    one, two = (simulate_sgd(loss, -1.0, 0.2, 500, 100, seed=3, exit_radius=1.5) for _ in range(2))
    np.testing.assert_array_equal(one.X, two.X)
    np.testing.assert_array_equal(one.exit_iteration, two.exit_iteration)
    other = simulate_sgd(loss, -1.0, 0.2, 500, 100, seed=4, exit_radius=1.5)
    assert not np.array_equal(one.exit_iteration, other.exit_iteration)
    gen = simulate_sgd(loss, -1.0, 0.2, 500, 100, seed=np.random.default_rng(3), exit_radius=1.5)
    np.testing.assert_array_equal(one.X, gen.X)


def test_statistics_are_honest_about_censoring():
    times = np.array([1.0, 2.0, 3.0, np.nan])
    s = exit_statistics(times, cap=10.0)
    assert s["mean_exit_iteration"] == 2.0 and s["censored"] == 1
    assert s["mean_exit_iteration_lower_bound"] == pytest.approx(16 / 4)
    assert s["exit_fraction_low"] < 0.75 < s["exit_fraction_high"]
    low, high = wilson(0, 100)
    assert low == 0.0 and 0.0 < high < 0.05


def _zero(dim):
    return Loss("zero", dim, lambda y: np.zeros(y.shape[:-1]), lambda y: np.zeros_like(y), lip=0.0, lower=0.0)


@pytest.mark.parametrize("dim", [1, 2])
def test_bridge_correction_removes_the_sqrt_dt_bias(dim):
    """Brownian motion dX = sqrt(2/beta) dW from the centre of the ball of radius R:
    (1/beta) Laplace tau = -1, tau = 0 on the sphere, so E tau = beta R^2 / (2 d).
    At dt = 0.04 the endpoint check alone is biased by about +25 %; the bridge
    correction is within its 99 % interval of the exact value."""
    beta, R, dt, paths = 2.0, 1.0, 0.04, 20000
    exact = beta * R**2 / (2 * dim)
    corrected = diffusion_exit_times(_zero(dim), np.zeros(dim), beta, R, dt, paths, 50.0, seed=21)
    mean, half = corrected.interval(0.99)
    assert abs(mean - exact) < half and corrected.statistics()["censored"] == 0
    plain = diffusion_exit_times(_zero(dim), np.zeros(dim), beta, R, dt, paths, 50.0, seed=21, bridge=False)
    mean, half = plain.interval(0.99)
    assert mean - exact > 5 * half


def test_bad_arguments_are_named():
    loss = hjb.make_loss("double_well")
    for kwargs, key in [(dict(eta=-0.1), "eta"), (dict(iterations=0), "iterations"), (dict(paths=2.5), "paths"),
                        (dict(batch=0), "batch"), (dict(sigma=-1.0), "sigma"), (dict(exit_radius=0.0), "exit_radius"),
                        (dict(x0=[0.0, 1.0]), "x0"), (dict(eta=3.0), "eta")]:
        args = dict(x0=-1.0, eta=0.1, iterations=50, paths=10) | kwargs
        with pytest.raises(hjb.InputError) as info:
            simulate_sgd(loss, **args)
        assert info.value.key == key and "\n" not in str(info.value)
    with pytest.raises(hjb.InputError, match="x0: lies outside"):
        diffusion_exit_times(loss, 2.0, 4.0, 1.0, 0.01, 10, 1.0, center=0.0)


def test_memory_refused_before_allocating(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("allocated before the memory check")
    monkeypatch.setattr(np, "tile", refuse)
    with pytest.raises(hjb.InputError, match="paths: SGD with 1,000,000,000,000 paths.*GiB"):
        simulate_sgd(hjb.make_loss("double_well"), -1.0, 0.1, 10, 10**12)
    with pytest.raises(hjb.InputError, match="iterations: needs"):
        simulate_sgd(hjb.make_loss("double_well"), -1.0, 0.1, 10**12, 10)


CASE = {"kind": "sgd", "title": "tiny", "model": {"dim": 2, "loss": {"name": "saddle_well"}},
        "solve": {"x0": [0.0, 0.0], "eta": [0.1, 0.05], "iterations": 2000, "paths": 200, "exit_radius": 0.5}}


def test_kind_sgd_end_to_end():
    result = hjb.run(case_from_dict(CASE))
    assert set(result.members) == {"eta=0.1", "eta=0.05"}
    for sub in result.members.values():
        assert sub["X"].shape == (200, 2) and sub.dims["X"] == ("path", "component")
        assert sub.dims["exit_iteration"] == ("path",) and (sub["exit_iteration"] > 0).all()
        assert sub.attrs["batch"] == 1 and sub.attrs["sigma"] == 1.0 and sub.attrs["censored"] == 0
    # a strict saddle: leaving takes more iterations at the smaller step, but far fewer than exp(c/eta)
    slow, fast = (result.members[k].attrs["mean_exit_iteration"] for k in ("eta=0.05", "eta=0.1"))
    assert fast < slow < 4 * fast
    fig = picture(result)
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 3
    one = hjb.run(case_from_dict(CASE, ["model.dim=1", "solve.x0=-1.0", "solve.eta=0.2", "model.loss.name='double_well'"]))
    assert one["X"].shape == (200,) and one.dims["X"] == ("path",)


def test_bad_case_exits_2_naming_the_key(tmp_path, capsys):
    import tomli_w
    for overrides, expected in [(["solve.eta=3.0"], "solve.eta: = 3: SGD diverged"),
                                (["solve.x0=[1.0]"], "solve.x0:"),
                                (["solve.paths=1000000000000"], "solve.paths: SGD with"),
                                (["solve.sigma=-1.0"], "solve.sigma: must be non-negative"),
                                (["solve.gamma=1.0"], "solve.gamma: unknown key")]:
        path = tmp_path / "case.toml"
        data = case_from_dict(CASE, ["solve.eta=0.1", "model.loss.name='double_well'", "solve.x0=[1.0, 0.0]",
                                     *overrides]).data
        del data["solve"]["exit_radius"]                       # paths that left would stop before diverging
        path.write_text(tomli_w.dumps(data))
        code = main(["run", str(path), "-o", str(tmp_path / "out.h5"), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and expected in err, err
