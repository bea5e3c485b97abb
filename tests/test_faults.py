"""Nothing lost, nothing silent (issue 11): a full disk, a signal in the write window, a
concurrent writer, an inherited ignored SIGINT, stale temporaries, corrupt files, and
non-finite results all end loudly, with the previous result file untouched."""
import contextlib
import errno
import hashlib
import io
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import hjb
from hjb.cli import main
from hjb.output import atomic, hdf5

CASE = ('kind = "eps_hjb"\ntitle = "faults"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
        '[grid]\nx = {{ lower = -3.0, upper = 3.0, points = {n} }}\ny = {{ lower = -2.0, upper = 2.0, points = {n} }}\n'
        '[solve]\nT = 0.2\neps = 0.1\n')


def write_case(folder, n=21, name="case.toml"):
    path = folder / name
    path.write_text(CASE.format(n=n))
    return str(path)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, err.getvalue()


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


# ------------------------------------------------------------------ full disk

@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs where the machine permits mounting one, else None."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


class _FullDisk(io.RawIOBase):
    """A file whose writes fail with ENOSPC after ``room`` bytes (the write hook)."""

    def __init__(self, room):
        self.room = room

    def writable(self):
        return True

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return len(data)


@pytest.mark.parametrize("precheck", [True, False])
def test_full_disk_keeps_the_previous_result(tmp_path, tiny_disk, monkeypatch, precheck):
    """The previous file survives byte for byte, the run exits 1 with one line, no temporary
    remains.  With ``precheck`` the free space is found short before writing; without it the
    write itself fails (the verified write path)."""
    folder = tiny_disk or tmp_path
    prev = folder / "prev.h5"
    assert run("run", write_case(tmp_path, 21), "-o", str(prev), "--quiet")[0] == 0
    before = digest(prev)
    if not precheck:
        monkeypatch.setattr(atomic, "check_free_space", lambda path, needed: None)
    if tiny_disk is None:                       # no tmpfs here: a write hook that runs out of room
        real_open = open
        monkeypatch.setattr(hdf5, "open", lambda path, mode="r": _FullDisk(1000) if "w" in mode
                            else real_open(path, mode), raising=False)
        if precheck:
            monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: type("U", (), {"free": 1000})())
    code, err = run("run", write_case(tmp_path, 201), "-o", str(prev), "--quiet", "--force")
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hjb: cannot write {prev}") and "Traceback" not in err
    assert digest(prev) == before and leftovers(folder) == []
    assert hjb.load(prev)["value"].shape == (21, 21)


def test_a_torn_file_is_never_published(tmp_path, monkeypatch):
    """A write that HDF5 reports as done but that reads back differently is refused."""
    prev = tmp_path / "prev.h5"
    assert run("run", write_case(tmp_path), "-o", str(prev), "--quiet")[0] == 0
    before = digest(prev)

    def torn(path, result):
        with h5py.File(path, "r+") as fh:
            fh["value"][0, 0] = 0.0
        hdf5.verify.__wrapped__(path, result)

    torn.__wrapped__ = hdf5.verify
    monkeypatch.setattr(hdf5, "verify", torn)
    code, err = run("run", write_case(tmp_path, 31), "-o", str(prev), "--quiet", "--force")
    assert code == 1 and "reads back differently" in err
    assert digest(prev) == before and leftovers(tmp_path) == []


# ------------------------------------------------------------------ signals

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_write_window_is_honoured_and_keeps_the_previous_file(tmp_path, monkeypatch, signum):
    prev = tmp_path / "prev.h5"
    assert run("run", write_case(tmp_path), "-o", str(prev), "--quiet")[0] == 0
    before = digest(prev)
    real = hdf5.verify

    def interrupted(path, result):                 # the signal arrives while the file is checked
        os.kill(os.getpid(), signum)
        real(path, result)

    monkeypatch.setattr(hdf5, "verify", interrupted)
    code, err = run("run", write_case(tmp_path, 31), "-o", str(prev), "--quiet", "--force")
    assert code == 130 and "Exception ignored" not in err
    assert digest(prev) == before and leftovers(tmp_path) == []


def test_sigint_is_honoured_when_inherited_as_ignored(tmp_path):
    """A shell starts background jobs with SIGINT ignored; hjb still stops on it (exit 130)."""
    case = write_case(tmp_path, 401)
    proc = subprocess.Popen([sys.executable, "-m", "hjb", "run", case, "-o", str(tmp_path / "o.h5"), "--quiet",
                             "--set", "solve.T=20.0"], stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not (tmp_path / "o.h5").exists() and leftovers(tmp_path) == []


# ------------------------------------------------------------------ concurrent writers

def test_a_concurrent_writer_is_not_overwritten(tmp_path, monkeypatch):
    """Another run publishes the same new file while this one writes: this one is refused
    (exit 2), the other's file stays."""
    out = tmp_path / "o.h5"
    real = hdf5.verify

    def meanwhile(path, result):
        out.write_bytes(b"the other run's result")
        real(path, result)

    monkeypatch.setattr(hdf5, "verify", meanwhile)
    code, err = run("run", write_case(tmp_path), "-o", str(out), "--quiet")
    assert code == 2 and "exists already" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"the other run's result" and leftovers(tmp_path) == []


def test_two_processes_writing_one_new_file(tmp_path):
    """Two real runs to the same new path without --force: exactly one wins, one exits 2."""
    case, out = write_case(tmp_path, 121), str(tmp_path / "o.h5")
    procs = [subprocess.Popen([sys.executable, "-m", "hjb", "run", case, "-o", out, "--quiet"],
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes == [0, 2]
    assert hjb.load(out)["value"].shape == (121, 121) and leftovers(tmp_path) == []


# ------------------------------------------------------------------ leftovers

def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "o.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".o.h5.{dead}.deadbeef.tmp"
    stale.write_bytes(b"left by SIGKILL")
    mine = tmp_path / f".o.h5.{os.getpid()}.cafecafe.tmp"     # a live process's: kept
    mine.write_bytes(b"in progress")
    assert run("run", write_case(tmp_path), "-o", str(out), "--quiet")[0] == 0
    assert not stale.exists() and mine.exists()


def test_failed_runs_create_no_folder(tmp_path):
    out = tmp_path / "results" / "deeper" / "o.h5"
    bad = write_case(tmp_path).replace("case.toml", "bad.toml")
    open(bad, "w").write(CASE.format(n=21).replace("eps = 0.1", "eps = -1.0"))
    assert run("run", bad, "-o", str(out), "--quiet")[0] == 2
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------ corrupt and foreign files

def _result_file(tmp_path):
    out = tmp_path / "r.h5"
    assert run("run", write_case(tmp_path), "-o", str(out), "--quiet", "--set", "solve.snapshots=3")[0] == 0
    return out


@pytest.mark.parametrize("damage", ["bit flips", "no dims", "strings", "no value"])
def test_corrupt_or_foreign_files_are_refused_in_one_line(tmp_path, damage):
    out = _result_file(tmp_path)
    if damage == "bit flips":
        raw = bytearray(out.read_bytes())
        for i in range(2000, len(raw), 97):
            raw[i] ^= 0xFF
        out.write_bytes(bytes(raw))
    else:
        with h5py.File(out, "r+") as fh:
            if damage == "no dims":
                del fh["value"].attrs["dims"]
            elif damage == "strings":
                del fh["value"]
                fh["value"] = np.array([b"a", b"b"])
            else:
                del fh["value"]
    for command in (["show", str(out)], ["plot", str(out), "-o", str(tmp_path / "f.png")]):
        code, err = run(*command)
        if damage == "no dims" and code == 0:
            continue                                     # readable: axes get generic names
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (command, err)


def test_a_value_file_without_its_case_is_refused(tmp_path):
    value = _result_file(tmp_path)
    with h5py.File(value, "r+") as fh:
        fh.attrs["case"] = "this is [not toml"
    case = tmp_path / "sde.toml"
    case.write_text('kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                    f'[solve]\nx0 = 0.0\nT = 0.2\neps = 0.1\npaths = 10\ndt = 0.001\ncontrol = "feedback"\n'
                    f'value_file = "{value}"\n')
    code, err = run("run", str(case), "-o", str(tmp_path / "s.h5"), "--quiet")
    assert code == 2 and "solve.value_file" in err and "[model]" in err


def test_all_nan_snapshots_are_refused(tmp_path):
    value = _result_file(tmp_path)
    with h5py.File(value, "r+") as fh:
        fh["snapshots"][...] = np.nan
    case = tmp_path / "sde.toml"
    case.write_text('kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                    f'[solve]\nx0 = 0.0\nT = 0.2\neps = 0.1\npaths = 10\ndt = 0.001\ncontrol = "feedback"\n'
                    f'value_file = "{value}"\n')
    code, err = run("run", str(case), "-o", str(tmp_path / "s.h5"), "--quiet")
    assert code == 2 and "not all finite" in err


# ------------------------------------------------------------------ non-finite results

NAN_LOSS = '''
import numpy as np

def nan_beyond_two(dim=1):
    """f = y^2/2, but NaN for y > 2 (a user loss with a hole)."""
    value = lambda y: np.where(y[..., 0] > 2, np.nan, 0.5 * np.sum(y * y, axis=-1))
    grad = lambda y: np.where(y > 2, np.nan, y)
    return value, grad, 1.0
'''


@pytest.mark.parametrize("kind,extra", [
    ("eps_hjb", ""), ("effective", ""), ("egd", ""), ("hbar", ""), ("cell", ""), ("viscous_hj", ""),
    ("hopf_lax", ""),
])
def test_a_loss_returning_nan_is_reported_where_it_arose(tmp_path, monkeypatch, kind, extra):
    (tmp_path / "holes.py").write_text(NAN_LOSS)
    monkeypatch.syspath_prepend(str(tmp_path))
    model = '[model]\ngamma = 2.0\n[model.loss]\nname = "holes:nan_beyond_two"\n'
    grid_xy = '[grid]\nx = { lower = -3.0, upper = 3.0, points = 31 }\ny = { lower = -2.5, upper = 2.5, points = 31 }\n'
    grid_x = '[grid]\nx = { lower = -3.0, upper = 3.0, points = 31 }\n'
    text = {
        "eps_hjb": f'kind = "eps_hjb"\n{model}{grid_xy}[solve]\nT = 0.2\neps = 0.1\n',
        "effective": f'kind = "effective"\n{model}{grid_x}[solve]\nT = 0.2\n',
        "egd": f'kind = "egd"\n{model}{grid_x}[solve]\nT = 0.2\n',
        "hbar": f'kind = "hbar"\n{model}[solve]\nx = [0.0, 1.5]\np = [1.0, 1.0]\n',
        "cell": f'kind = "cell"\n{model}[solve]\nxbar = 0.0\npbar = 1.0\nn = 4.0\ndelta = 0.01\nh = 0.1\n',
        "viscous_hj": f'kind = "viscous_hj"\n[model]\n[model.loss]\nname = "holes:nan_beyond_two"\n{grid_x}'
                      '[solve]\nbeta = 2.0\nt = 0.2\n',
        "hopf_lax": f'kind = "hopf_lax"\n[model]\n[model.loss]\nname = "holes:nan_beyond_two"\n{grid_x}'
                    '[solve]\nt = 0.2\n',
    }[kind]
    case = tmp_path / "c.toml"
    case.write_text(text)
    code, err = run("run", str(case), "-o", str(tmp_path / "o.h5"), "--quiet")
    lines = [line for line in err.strip().splitlines() if not line.startswith("hjb: warning:")]
    assert code == 1 and len(lines) == 1 and lines[0].startswith("hjb: non-finite value: "), err
    assert not (tmp_path / "o.h5").exists()


def test_an_sde_path_that_blows_up_is_reported(tmp_path):
    case = tmp_path / "c.toml"
    case.write_text('kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "double_well"\n'
                    '[solve]\nx0 = 20.0\ny0 = 20.0\nT = 0.5\neps = 0.1\npaths = 20\n')
    code, err = run("run", str(case), "-o", str(tmp_path / "o.h5"), "--quiet")
    assert code in (1, 2) and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "o.h5").exists()


# ------------------------------------------------------------------ hostile input, one line each

HOSTILE = [
    ("seed 2**70", 'kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                   '[solve]\nx0 = 0.0\nT = 0.1\neps = 0.1\nseed = 1180591620717411303424\n', "solve.seed"),
    ("seed -1", 'kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                '[solve]\nx0 = 0.0\nT = 0.1\neps = 0.1\nseed = -1\n', "solve.seed"),
    ("x0 nan", 'kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
               '[solve]\nx0 = nan\nT = 0.1\neps = 0.1\n', "solve.x0"),
    ("kappa true", 'kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "wide_narrow"\nkappa = true\n'
                   '[solve]\nx = [0.0]\np = [1.0]\n', "model.loss.kappa"),
    ("loss name ':'", 'kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = ":"\n'
                      '[solve]\nx = [0.0]\np = [1.0]\n', "model.loss.name"),
    ("gamma huge", 'kind = "hbar"\n[model]\ngamma = 1e300\n[model.loss]\nname = "quadratic"\n'
                   '[solve]\nx = [0.0]\np = [1.0]\n', "model.gamma"),
    ("narrow_depth huge", 'kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "wide_narrow"\n'
                          'narrow_depth = 1e300\n[solve]\nx = [0.0]\np = [1.0]\n', "model.loss.narrow_depth"),
    ("n huge", 'kind = "cell"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
               '[solve]\nxbar = 0.0\npbar = 1.0\nn = 1e308\ndelta = 0.1\nh = 0.1\n', "solve.n"),
    ("h tiny", 'kind = "cell"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
               '[solve]\nxbar = 0.0\npbar = 1.0\nn = 4.0\ndelta = 0.1\nh = 1e-300\n', "solve.h"),
    ("beta tiny", 'kind = "viscous_hj"\n[model]\n[model.loss]\nname = "quadratic"\n'
                  '[grid]\nx = { lower = -2.0, upper = 2.0, points = 21 }\n[solve]\nbeta = [1e-300, 1.0]\nt = 0.1\n',
     "solve.beta"),
    ("grid bound huge", 'kind = "effective"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                        '[grid]\nx = { lower = -2.0, upper = 1e308, points = 21 }\n[solve]\nT = 0.1\n', "grid.x.upper"),
    ("controls huge", 'kind = "hbar"\n[model]\ngamma = 2.0\ncontrols = [-1e308, 1e308]\n[model.loss]\n'
                      'name = "quadratic"\n[solve]\nx = [0.0]\np = [1.0]\n', "model.controls"),
    ("T huge", 'kind = "effective"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
               '[grid]\nx = { lower = -2.0, upper = 2.0, points = 21 }\n[solve]\nT = 1e308\n', "solve.T"),
    ("output file empty", 'kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                          '[solve]\nx = [0.0]\np = [1.0]\n[output]\nfile = ""\n', "output.file"),
    ("paths 1e9", 'kind = "sde"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
                  '[solve]\nx0 = 0.0\nT = 0.1\neps = 0.1\ndt = 0.001\npaths = 1000000000\n', "solve.paths"),
    ("nested 500 deep", 'kind = "hbar"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\nc = '
                        + "[" * 500 + "1.0" + "]" * 500 + '\n[solve]\nx = [0.0]\np = [1.0]\n', "nested more than"),
]


@pytest.mark.parametrize("name,text,key", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_numbers_are_refused_in_one_line_naming_the_key(tmp_path, name, text, key):
    case = tmp_path / "c.toml"
    case.write_text(text)
    out = tmp_path / "out" / "o.h5"
    code, err = run("run", str(case), "-o", str(out), "--quiet")
    lines = [line for line in err.strip().splitlines() if not line.startswith("hjb: warning:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("hjb: ") and key in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def test_set_wins_over_ci(tmp_path):
    out = tmp_path / "o.h5"
    assert run("run", "cases/quadratic_value.toml", "--ci", "--set", "grid.x.points=41", "-o", str(out),
               "--quiet")[0] == 0
    assert hjb.load(out)["value"].shape[0] == 41


def test_control_characters_are_escaped(tmp_path):
    case = tmp_path / "c.toml"
    case.write_text('kind = "hbar"\ntitle = "\\u001b[31mred\\r"\n[model]\ngamma = 2.0\n[model.loss]\n'
                    'name = "quadratic"\n[solve]\nx = [0.0]\np = [1.0]\n"\\r" = 1\n')
    code, err = run("run", str(case), "-o", str(tmp_path / "o.h5"), "--quiet")
    assert code == 2 and err.count("\n") == 1 and "\r" not in err and "\\r" in err
    case.write_text(case.read_text().replace('"\\r" = 1\n', ""))
    assert run("run", str(case), "-o", str(tmp_path / "o.h5"), "--quiet")[0] == 0
    code, shown = contextlib.redirect_stdout, io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main(["show", str(tmp_path / "o.h5")]) == 0
    assert "\x1b" not in shown.getvalue() and "\\x1b[31mred" in shown.getvalue()
