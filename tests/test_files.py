"""Result files describe themselves (issue 14): ordered, self-describing sweep groups, the
resolved case with every default and the actual output path, the versions used, CF names,
x and p of H-bar as coordinates; ``Result.value`` and ``Result.to_xarray()``."""
import numpy as np
import pytest
import xarray as xr

import hjb
from hjb.cli import main

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

SWEEP = ('kind = "eps_hjb"\n[model]\ngamma = 2.0\n[model.loss]\nname = "wide_narrow"\n[grid]\n'
         'x = { lower = -3.0, upper = 3.0, points = 21 }\ny = { lower = -2.0, upper = 2.0, points = 21 }\n'
         '[solve]\nT = 0.2\neps = [0.1, 0.003, 0.02, 1.0]\n')


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    (folder / "case.toml").write_text(SWEEP)
    out = folder / "sweep.h5"
    assert main(["run", str(folder / "case.toml"), "-o", str(out), "--quiet"]) == 0
    return out


def test_groups_open_in_run_order_and_describe_themselves(sweep_file):
    tree = xr.open_datatree(sweep_file, engine="h5netcdf")
    assert list(tree.children) == ["eps=0.1", "eps=0.003", "eps=0.02", "eps=1"]      # run order, not sorted
    for name, node in tree.children.items():
        attrs = node.attrs
        assert attrs["kind"] == "eps_hjb" and attrs["hjb_version"] == hjb.__version__ and attrs["created"]
        case = tomllib.loads(attrs["case"])                     # what a single run of that member stores
        assert case["solve"]["eps"] == float(name.split("=")[1])
        assert node.ds["value"].dims == ("x", "y") and node.ds["x"].attrs["long_name"] == "slow variable x"
        assert "V^eps" in node.ds["value"].attrs["long_name"]


def test_the_stored_case_is_resolved_with_the_output_path(sweep_file):
    root = hjb.load(sweep_file)
    case = tomllib.loads(root.case_text)
    assert case["output"]["file"] == str(sweep_file)
    loss = case["model"]["loss"]
    assert loss["name"] == "wide_narrow" and loss["kappa"] == 0.05 and loss["narrow_width"] == 0.15  # defaults
    assert case["model"]["controls"] == [0.0, 1.0] and case["solve"]["y_scheme"] == "fitted"
    for library in ("numpy", "scipy", "h5py", "python"):
        assert root.attrs[f"{library}_version"]


def test_hbar_points_are_coordinates(tmp_path):
    case = tmp_path / "h.toml"
    case.write_text('kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                    '[solve]\nx = [0.0, 1.0]\np = [1.0, -1.0]\n')
    assert main(["run", str(case), "-o", str(tmp_path / "h.h5"), "--quiet"]) == 0
    ds = xr.open_dataset(tmp_path / "h.h5", engine="h5netcdf")
    assert set(ds.coords) >= {"x", "p"} and list(ds.data_vars) == ["hbar"]
    # Result.to_xarray() gives the same Dataset as xarray reading the file
    mine = hjb.load(tmp_path / "h.h5").to_xarray()
    assert set(mine.coords) == set(ds.coords) and list(mine.data_vars) == ["hbar"]
    assert mine.attrs["case"] == ds.attrs["case"]


def test_result_value_and_to_xarray():
    result = hjb.run(hjb.load_case("cases/quadratic_value.toml", "grid.x.points=21"))   # one string is one override
    assert result.value is result["value"]
    with pytest.raises(AttributeError, match="no attribute or dataset 'omega'"):
        result.omega
    ds = result.to_xarray()
    assert ds["value"].dims == ("x", "y") and np.array_equal(ds["value"].values, result.value)
    sweep = hjb.run(hjb.load_case("cases/quadratic_value.toml",
                                  ["grid.x.points=21", "grid.y.points=21", "solve.eps=[0.1, 0.01]"]))
    tree = sweep.to_xarray()
    assert list(tree.children) == ["eps=0.1", "eps=0.01"]


def test_a_user_loss_beside_the_case_file_needs_no_pythonpath(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "my_losses.py").write_text("import numpy as np\n\ndef bowl(dim=1, a=1.0):\n"
                                         "    return (lambda y: 0.5 * a * np.sum(y * y, axis=-1), lambda y: a * y, a)\n")
    (folder / "case.toml").write_text('kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "my_losses:bowl"\n'
                                      'a = 1.0\n[solve]\nx = [0.5]\np = [1.0]\n')
    monkeypatch.chdir(tmp_path)                                   # not the case's folder
    assert main(["run", "study/case.toml", "-o", "out.h5", "--quiet"]) == 0
    from hjb.reference.quadratic import quadratic_hbar
    assert hjb.load("out.h5")["hbar"][0] == pytest.approx(quadratic_hbar(1.0, 0.0, 2.0, [[0.5]], [[1.0]])[0], rel=1e-9)
