"""Sweeps: one group per value, scheduling-independent results (serial, a local
Dask cluster, an existing scheduler), resumable after an interruption."""
import os

import numpy as np
import pytest
import tomli_w

import hjb
from hjb.runner import registry as kinds
from hjb.runner.run import run_member
from hjb.runner.sweep import sweep_members
from hjb.runner.validate import resolved_text, validate
from hjb.runner.case import case_from_dict
from hjb.cli import main
from hjb.errors import InputError

CASE = {
    "kind": "eps_hjb", "title": "sweep",
    "model": {"gamma": 3.0, "loss": {"name": "wide_narrow", "narrow_width": 0.5, "wide_width": 0.8}},
    "grid": {"x": {"lower": -3.0, "upper": 3.0, "points": 41}, "y": {"lower": -3.0, "upper": 3.0, "points": 41}},
    "solve": {"T": 0.3, "eps": [0.3, 0.1, 0.03, 0.01]},
}


def write(tmp_path, data, name="case.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data))
    return str(path)


def values(result):
    return {name: sub["value"] for name, sub in result.members.items()}


def test_sweep_gives_one_group_per_value_in_list_order():
    result = hjb.run(case_from_dict(CASE))
    assert list(result.members) == ["eps=0.3", "eps=0.1", "eps=0.03", "eps=0.01"]
    assert result.attrs["sweep"] == "eps" and not result.data
    for name, sub in result.members.items():
        assert sub.attrs["eps"] == float(name.split("=")[1]) and sub["value"].shape == (41, 41)
        single = hjb.run(case_from_dict(CASE, [f"solve.eps={sub.attrs['eps']}"]))
        np.testing.assert_array_equal(single["value"], sub["value"])   # a member is exactly that single run


def test_serial_local_cluster_and_scheduler_give_identical_arrays(tmp_path):
    from dask.distributed import LocalCluster
    case = write(tmp_path, CASE)
    assert main(["run", case, "-o", str(tmp_path / "serial.h5"), "--quiet", "--workers", "1"]) == 0
    assert main(["run", case, "-o", str(tmp_path / "local.h5"), "--quiet", "--workers", "2"]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        assert main(["run", case, "-o", str(tmp_path / "remote.h5"), "--quiet",
                     "--scheduler", cluster.scheduler_address]) == 0
        # An input error inside a worker comes back as bad input (exit 2), not a crash.
        bad = dict(CASE, kind="effective", grid={"x": {"lower": -1.0, "upper": 1.0, "points": [9, 10**10]}},
                   solve={"T": 0.1})
        code = main(["run", write(tmp_path, bad, "bad.toml"), "-o", str(tmp_path / "bad.h5"), "--quiet",
                     "--scheduler", cluster.scheduler_address])
        assert code == 2 and not (tmp_path / "bad.h5").exists()
    serial = values(hjb.load(tmp_path / "serial.h5"))
    for other in ("local.h5", "remote.h5"):
        got = values(hjb.load(tmp_path / other))
        assert list(got) == list(serial)
        for name in serial:
            assert np.array_equal(got[name], serial[name]), (other, name)
    assert not any(p.endswith(".partial") for p in os.listdir(tmp_path))


def test_single_solve_starts_no_dask_cluster(tmp_path, monkeypatch):
    import dask.distributed

    def refuse(*args, **kwargs):
        raise AssertionError("a single solve must not start a Dask cluster")

    monkeypatch.setattr(dask.distributed, "LocalCluster", refuse)
    monkeypatch.setattr(dask.distributed, "Client", refuse)
    single = dict(CASE, solve={"T": 0.3, "eps": 0.1})
    assert main(["run", write(tmp_path, single), "-o", str(tmp_path / "o.h5"), "--quiet", "--workers", "2"]) == 0


class Interrupt:
    """Wrap the eps_hjb runner: count the solves, raise KeyboardInterrupt at solve number ``at``."""

    def __init__(self, at=None):
        self.at, self.calls, self.runner = at, [], kinds.KINDS["eps_hjb"].runner

    def __call__(self, data, on_step):
        self.calls.append(data["solve"]["eps"])
        if len(self.calls) == self.at:
            raise KeyboardInterrupt
        return self.runner(data, on_step)


def test_resume_keeps_finished_members_and_computes_only_the_rest(tmp_path, monkeypatch):
    spec = kinds.KINDS["eps_hjb"]
    reference = hjb.run(case_from_dict(CASE))
    partial = str(tmp_path / "out.h5.partial")

    first = Interrupt(at=3)
    monkeypatch.setitem(kinds.KINDS, "eps_hjb", kinds.KindSpec(**{**spec.__dict__, "runner": first}))
    with pytest.raises(KeyboardInterrupt):
        hjb.run(case_from_dict(CASE), partial=partial)
    assert sorted(os.listdir(partial)) == ["eps=0.1.h5", "eps=0.3.h5"]

    # Without resume the finished members are not silently thrown away ...
    with pytest.raises(InputError, match="holds 2 finished member"):
        hjb.run(case_from_dict(CASE), partial=partial)

    # ... with resume only the missing ones are computed, and the result is the same.
    second = Interrupt()
    monkeypatch.setitem(kinds.KINDS, "eps_hjb", kinds.KindSpec(**{**spec.__dict__, "runner": second}))
    resumed = hjb.run(case_from_dict(CASE), partial=partial, resume=True)
    assert second.calls == [0.03, 0.01]
    assert list(resumed.members) == list(reference.members)
    for name in reference.members:
        assert np.array_equal(resumed.members[name]["value"], reference.members[name]["value"])


def test_resume_recomputes_a_member_whose_case_changed(tmp_path, monkeypatch):
    spec = kinds.KINDS["eps_hjb"]
    partial = str(tmp_path / "p")
    hjb.run(case_from_dict(CASE, ["solve.eps=[0.3, 0.1]"]), partial=partial)
    counting = Interrupt()
    monkeypatch.setitem(kinds.KINDS, "eps_hjb", kinds.KindSpec(**{**spec.__dict__, "runner": counting}))
    changed = case_from_dict(CASE, ["solve.eps=[0.3, 0.1]", "solve.T=0.2"])
    result = hjb.run(changed, partial=partial, resume=True)
    assert counting.calls == [0.3, 0.1]                         # nothing reused: T differs
    assert result.members["eps=0.3"].attrs["T"] == 0.2


def test_cli_resume_and_force_with_a_partial_sweep(tmp_path, capsys):
    case = write(tmp_path, CASE)
    out = tmp_path / "out.h5"
    partial = tmp_path / "out.h5.partial"
    # A finished member from an interrupted run of the same case.
    as_run = hjb.load_case(case)
    as_run.data["output"] = {"file": str(out)}                    # the CLI records where it writes
    member = sweep_members(kinds.KINDS["eps_hjb"], validate(as_run))[0]
    done = run_member(member.data)
    done.case_text = resolved_text(member.data)
    hjb.save(done, partial / f"{member.name}.h5")
    assert main(["run", case, "-o", str(out), "--quiet", "--workers", "1"]) == 2
    assert "pass --resume to keep them or --force to discard them" in capsys.readouterr().err
    assert main(["run", case, "-o", str(out), "--quiet", "--workers", "1", "--resume", "-v"]) == 0
    assert "resuming: 1 of 4 members kept" in capsys.readouterr().err
    assert out.exists() and not partial.exists()                 # the partial folder goes once saved


def test_refinement_sweep_over_grid_points():
    case = case_from_dict(CASE, ["solve.eps=0.1", "grid.x.points=[21, 41]", "grid.y.points=[11, 21]"])
    result = hjb.run(case)
    assert list(result.members) == ["grid.x.points=21,grid.y.points=11", "grid.x.points=41,grid.y.points=21"]
    assert result.members["grid.x.points=41,grid.y.points=21"]["value"].shape == (41, 21)
    one = hjb.run(case_from_dict(CASE, ["solve.eps=0.1", "grid.x.points=[21, 41]"]))
    assert list(one.members) == ["grid.x.points=21", "grid.x.points=41"]
    with pytest.raises(InputError, match="same length"):
        hjb.run(case_from_dict(CASE, ["solve.eps=0.1", "grid.x.points=[21, 41]", "grid.y.points=[11]"]))


def test_refinement_sweep_in_two_dimensions_is_a_list_of_lists():
    case = {"kind": "effective", "model": {"dim": 2, "gamma": 2.0, "loss": {"name": "quadratic"}},
            "grid": {"x": {"lower": [-1.0, -1.0], "upper": [1.0, 1.0], "points": [[3, 3], [4, 3]]}},
            "solve": {"T": 0.05, "resolution": 1}}
    result = hjb.run(case_from_dict(case))
    assert list(result.members) == ["grid.x.points=3x3", "grid.x.points=4x3"]
    assert result.members["grid.x.points=4x3"]["value"].shape == (4, 3)
