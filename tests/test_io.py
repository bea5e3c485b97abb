"""Result files (SPEC section 10): self-describing HDF5 that xarray opens with
named coordinates, read back by hjb.load into the Result hjb.run returned,
written atomically, never overwritten without force."""
import os

import h5py
import numpy as np
import pytest
import xarray as xr

import hjb
from hjb.hbar.velocities import unit_directions
from hjb.runner.case import case_from_dict
from hjb.errors import InputError

EPS_HJB = {
    "kind": "eps_hjb", "title": "io",
    "model": {"gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}},
    "grid": {"x": {"lower": -2.0, "upper": 2.0, "points": 11}, "y": {"lower": -1.5, "upper": 1.5, "points": 7}},
    "solve": {"T": 0.2, "eps": 0.1},
}
HBAR = {"kind": "hbar", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
        "solve": {"x": [0.0, 1.0, 2.0], "p": [1.0, -1.0, 0.5]}}
EFFECTIVE_2D = {"kind": "effective", "model": {"dim": 2, "gamma": 2.0, "loss": {"name": "quadratic", "c": [0.5, 0.0]}},
                "grid": {"x": {"lower": [-1.0, -1.0], "upper": [1.0, 1.0], "points": [3, 4]}},
                "solve": {"T": 0.1, "resolution": 1}}


def assert_same(a: hjb.Result, b: hjb.Result):
    assert a.kind == b.kind
    assert set(a.data) == set(b.data) and set(a.coords) == set(b.coords)
    for name in a.data:
        np.testing.assert_array_equal(a[name], b[name])
        assert a.dims[name] == b.dims[name]
    for name in a.coords:
        np.testing.assert_array_equal(a.coords[name], b.coords[name])
    for key, value in a.attrs.items():
        assert b.attrs[key] == (int(value) if isinstance(value, bool) else value)
    assert list(a.members) == list(b.members)
    for name in a.members:
        assert_same(a.members[name], b.members[name])


@pytest.mark.parametrize("case", [EPS_HJB, HBAR, EFFECTIVE_2D], ids=["eps_hjb", "hbar", "effective_2d"])
def test_load_reads_back_what_run_returned(tmp_path, case):
    result = hjb.run(case_from_dict(case))
    path = hjb.save(result, tmp_path / "r.h5")
    back = hjb.load(path)
    assert_same(result, back)
    assert back.case_text == result.case_text
    assert back.attrs["hjb_version"] == hjb.__version__ and back.attrs["created"]


def test_sweep_round_trip_keeps_member_order(tmp_path):
    case = case_from_dict(EPS_HJB, ["solve.eps=[0.3, 0.01, 0.1]"])
    result = hjb.run(case)
    assert list(result.members) == ["eps=0.3", "eps=0.01", "eps=0.1"]
    back = hjb.load(hjb.save(result, tmp_path / "s.h5"))
    assert_same(result, back)          # h5py lists groups alphabetically; the order is restored
    assert back.attrs["sweep"] == "eps"


def test_xarray_opens_with_named_coordinates(tmp_path):
    path = hjb.save(hjb.run(case_from_dict(EPS_HJB)), tmp_path / "r.h5")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["value"].dims == ("x", "y")
        np.testing.assert_allclose(ds["x"].values, np.linspace(-2.0, 2.0, 11))
        np.testing.assert_allclose(ds["y"].values, np.linspace(-1.5, 1.5, 7))
        assert ds.attrs["kind"] == "eps_hjb" and 'eps = 0.1' in ds.attrs["case"]
        assert ds.attrs["hjb_version"] == hjb.__version__ and "T" in ds.attrs["created"]
        # Selection by coordinate value works: the point of named coordinates.
        v = float(ds["value"].sel(x=0.4, y=0.0, method="nearest").values)
        assert v == hjb.load(path)["value"][6, 3]


def test_xarray_names_every_axis_2d_and_non_coordinate_axes(tmp_path):
    path = hjb.save(hjb.run(case_from_dict(EFFECTIVE_2D)), tmp_path / "e.h5")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["value"].dims == ("x1", "x2") and ds["value"].shape == (3, 4)
        assert ds["velocities"].dims == ("x1", "x2", "candidate", "component")
        # the candidates are labelled: the constant controls, then the bang-bang directions
        assert set(ds.coords) == {"x1", "x2", "candidate_control", "candidate_direction"}
        control, direction = ds["candidate_control"].values, ds["candidate_direction"].values
        np.testing.assert_array_equal(control[:2], [0.0, 1.0])
        assert np.all(np.isnan(control[2:])) and np.all(np.isnan(direction[:2]))
        np.testing.assert_allclose(direction[2:], unit_directions(2, 1), rtol=0, atol=0)
        # a constant control's velocity, picked by its label: u gamma (m(x) - x)
        pick = ds["velocities"].where(ds["candidate_control"] == 1.0, drop=True).values[..., 0, :]
        np.testing.assert_array_equal(pick, hjb.load(path)["velocities"][:, :, 1, :])
        assert set(hjb.load(path).to_xarray().coords) == set(ds.coords)
    path = hjb.save(hjb.run(case_from_dict(HBAR)), tmp_path / "h.h5")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["hbar"].dims == ("pair",) and ds["x"].dims == ("pair",)


def test_xarray_opens_each_sweep_group(tmp_path):
    path = hjb.save(hjb.run(case_from_dict(EPS_HJB, ["solve.eps=[0.1, 0.01]"])), tmp_path / "s.h5")
    for name in ("eps=0.1", "eps=0.01"):
        with xr.open_dataset(path, engine="h5netcdf", group=name) as ds:
            assert ds["value"].dims == ("x", "y") and ds.attrs["eps"] == float(name[4:])


def test_coordinates_are_dimension_scales(tmp_path):
    path = hjb.save(hjb.run(case_from_dict(EPS_HJB)), tmp_path / "r.h5")
    with h5py.File(path) as fh:
        assert fh["x"].is_scale and fh["y"].is_scale
        assert fh["value"].dims[0][0] == fh["x"] and fh["value"].dims[1][0] == fh["y"]
        assert set(fh.attrs) >= {"hjb_version", "kind", "case", "created"}


def test_save_is_atomic_and_never_overwrites_without_force(tmp_path):
    result = hjb.run(case_from_dict(HBAR))
    path = tmp_path / "r.h5"
    path.write_bytes(b"precious")
    with pytest.raises(InputError, match="exists already"):
        hjb.save(result, path)
    assert path.read_bytes() == b"precious"
    hjb.save(result, path, force=True)
    assert hjb.load(path).kind == "hbar"
    assert os.listdir(tmp_path) == ["r.h5"]                 # no temporary file left


def test_interrupted_save_leaves_previous_file_and_no_temporary(tmp_path, monkeypatch):
    result = hjb.run(case_from_dict(HBAR))
    path = tmp_path / "r.h5"
    path.write_bytes(b"precious")

    def interrupted(group, res):
        raise KeyboardInterrupt

    monkeypatch.setattr(hjb.output.hdf5, "_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        hjb.save(result, path, force=True)
    assert path.read_bytes() == b"precious" and os.listdir(tmp_path) == ["r.h5"]


def test_load_refuses_what_is_not_a_result(tmp_path):
    with pytest.raises(InputError, match="result file not found"):
        hjb.load(tmp_path / "none.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(InputError, match="not an HDF5 result file"):
        hjb.load(tmp_path / "text.h5")
    with h5py.File(tmp_path / "plain.h5", "w") as fh:
        fh["a"] = np.zeros(3)
    with pytest.raises(InputError, match="no 'kind' attribute"):
        hjb.load(tmp_path / "plain.h5")


def test_result_files_are_readable_by_others(tmp_path):
    path = hjb.save(hjb.run(case_from_dict(HBAR)), tmp_path / "r.h5")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
