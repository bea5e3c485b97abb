import warnings

import pytest

import hjb


@pytest.fixture
def quadratic_model():
    """f(y) = (y - 0.5)^2 / 2 with gamma = 2: Gaussian Gibbs measure, closed-form H-bar."""
    return hjb.DeepRelaxation(hjb.make_loss("quadratic", a=1.0, c=0.5), gamma=2.0)


@pytest.fixture
def quiet_assumptions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hjb.AssumptionWarning)
        yield


@pytest.fixture
def refuses(tmp_path, capsys):
    """``refuses(case, setting, key)``: ``hjb run case --ci --set setting`` exits 2 with one line
    naming ``key``, and writes nothing."""
    from hjb.cli import main

    def check(case, setting, key):
        out = tmp_path / "refused.h5"
        code = main(["run", case, "--ci", "--quiet", "-o", str(out), "--set", setting])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and key in lines[0], lines
        assert not out.exists()
    return check
