"""Every shipped case (cases/*.toml, whoever added it) runs through the CLI.

CI runs each case with ``hjb run --ci``: the overrides of the case's optional
[ci] table (reduced resolution, a shorter sweep) applied to the same solve.
A case without [ci] runs exactly as shipped.  The full case is validated too.
"""
import glob
import os

import numpy as np
import pytest

import hjb

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib
from hjb.runner.case import apply_ci
from hjb.cli import main
from hjb.runner.validate import validate

FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cases")
CASES = sorted(glob.glob(os.path.join(FOLDER, "*.toml")))
#: The dataset each kind must produce (SPEC section 10).
MAIN = {"eps_hjb": "value", "effective": "value", "egd": "value", "viscous_hj": "value", "hopf_lax": "value",
        "exit_time": "value", "hbar": "hbar", "cell": "omega", "sde": "X_T", "sgd": "X", "fokker_planck": "density"}


def _assert_contains(stored, given, path="case"):
    """Every value of ``given`` is in ``stored`` (numbers compared as floats, a scalar loss centre
    may be stored as its d-list)."""
    for key, value in given.items():
        if key == "output":
            continue
        assert key in stored, f"{path}.{key} missing from the stored case"
        if isinstance(value, dict):
            _assert_contains(stored[key], value, f"{path}.{key}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(stored[key], list):
            assert all(float(v) == float(value) for v in stored[key]), (path, key)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(stored[key]) == float(value), (path, key)
        else:
            assert stored[key] == value or np.allclose(np.asarray(stored[key], float), np.asarray(value, float)), \
                (path, key)


def test_the_library_has_enough_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:-5] for p in CASES])
def test_shipped_case_runs(tmp_path, capsys, path):
    text = open(path).read()
    assert text.lstrip().startswith("#"), "a case opens with a comment block saying what it shows"
    case = hjb.load_case(path)
    assert case.data.get("title"), "a case has a title"
    validate(case)                                                 # the full case is valid as shipped
    quick = apply_ci(case)
    out = tmp_path / "out.h5"
    code = main(["run", path, "-o", str(out), "--ci", "--quiet", "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    result = hjb.load(out)
    assert result.kind == case.kind
    stored = tomllib.loads(result.case_text)          # the case as run: every key of the quick case,
    _assert_contains(stored, quick.data)              # every default filled in, the actual output file
    assert stored["output"]["file"] == str(out) and "T" in stored.get("solve", {}) or stored["solve"]
    singles = list(result.members.values()) or [result]
    for single in singles:
        name = MAIN.get(result.kind)
        if name is not None:
            assert name in single.data, f"{result.kind} result lacks '{name}'"
        for dataset, values in single.data.items():
            if values.dtype.kind == "f" and values.size:
                assert np.isfinite(values).any(), f"{dataset} has no finite entry"
