"""The command line: run / list / show / plot, exit codes, progress, logging,
and nothing lost (real subprocesses and real signals where it matters)."""
import fcntl
import os
import pty
import re
import resource
import select
import signal
import subprocess
import struct
import sys
import termios
import time

import numpy as np
import pytest
import tomli_w

import hjb
from hjb.cli import main
from hjb.runner.case import case_from_dict
from hjb.runner.registry import KINDS
from hjb.runner.show import picture as figure, save_picture as save_figure
from hjb.output.result import Result

CASE = {
    "kind": "eps_hjb", "title": "cli test",
    "model": {"gamma": 2.0, "loss": {"name": "quadratic", "a": 1.0, "c": 0.5}},
    "grid": {"x": {"lower": -2.0, "upper": 2.0, "points": 21}, "y": {"lower": -2.0, "upper": 2.0, "points": 21}},
    "solve": {"T": 0.2, "eps": 0.1},
}
#: A solve that runs for many seconds (interrupted long before it ends).
LONG = ["--set", "grid.x.points=401", "--set", "grid.y.points=401", "--set", "solve.dt=0.0005",
        "--set", "solve.T=2.0"]


def write(tmp_path, data=CASE, name="case.toml"):
    path = tmp_path / name
    path.write_text(tomli_w.dumps(data))
    return str(path)


def hjb_cmd(*args):
    return [sys.executable, "-m", "hjb", *args]


def wait_for(proc, text, timeout=60):
    """Read the child's stderr until ``text`` appears; return what was read."""
    seen, end = b"", time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < end and proc.poll() is None, seen.decode(errors="replace")
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096)
    return seen.decode()


# ------------------------------------------------------------------ run, show, plot

def test_run_show_plot(tmp_path, capsys):
    out, fig = tmp_path / "r.h5", tmp_path / "r.png"
    assert main(["run", write(tmp_path), "-o", str(out), "--set", "solve.eps=0.05"]) == 0
    assert f"eps_hjb: wrote {out}" in capsys.readouterr().out
    result = hjb.load(out)
    assert "eps = 0.05" in result.case_text                     # the case as run, overrides applied
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    for text in ("kind: eps_hjb", "title: cli test", "gamma = 2", "eps = 0.05", "dataset value (21, 21) over (x, y)",
                 "coordinate x: 21 points on [-2, 2]", "min value"):
        assert text in shown, shown
    assert main(["plot", str(out), "-o", str(fig)]) == 0
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(out), "-o", str(fig)]) == 2        # no overwrite without --force
    assert main(["plot", str(out), "-o", str(fig), "--force"]) == 0
    assert main(["plot", str(out), "-o", str(tmp_path / "r.jpg2")]) == 2
    assert sorted(os.listdir(tmp_path)) == ["case.toml", "r.h5", "r.png"]


def test_show_headlines_of_a_sweep_and_of_hbar(tmp_path, capsys):
    assert main(["run", write(tmp_path), "-o", str(tmp_path / "s.h5"), "--quiet", "--workers", "1",
                 "--set", "solve.eps=[0.1, 0.01]"]) == 0
    assert main(["show", str(tmp_path / "s.h5")]) == 0
    shown = capsys.readouterr().out
    assert "sweep over eps: 2 members" in shown and "[eps=0.1]" in shown and "[eps=0.01]" in shown
    hbar = {"kind": "hbar", "model": {"gamma": 2.0, "loss": {"name": "quadratic"}},
            "solve": {"x": [0.0, 1.0], "p": [1.0, -1.0]}}
    assert main(["run", write(tmp_path, hbar, "h.toml"), "-o", str(tmp_path / "h.h5"), "--quiet"]) == 0
    assert main(["show", str(tmp_path / "h.h5")]) == 0
    assert "x = 1, p = -1: H-bar = " in capsys.readouterr().out


def test_list_shows_every_shipped_case_with_its_title(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(hjb.__file__))), "cases")
    cases = sorted(f for f in os.listdir(folder) if f.endswith(".toml"))
    assert len(lines) == len(cases) >= 8
    for line, name in zip(lines, cases):
        title = hjb.load_case(os.path.join(folder, name)).data["title"]
        assert name in line and title and line.endswith(title)


def test_list_survives_a_closed_pipe(tmp_path):
    for i in range(600):                                           # more than a pipe buffer of output
        write(tmp_path, dict(CASE, title=f"case number {i}"), f"c{i:04d}.toml")
    proc = subprocess.Popen(hjb_cmd("list", "--cases", str(tmp_path)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert b"case number 0" in proc.stdout.readline()
    proc.stdout.close()                                            # like `hjb list | head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == ""


# ------------------------------------------------------------------ exit codes (real processes)

def test_exit_codes_and_non_finite_report(tmp_path):
    """0 on success, 2 on bad input, 1 with solver/step/location when a NaN appears."""
    (tmp_path / "nanloss.py").write_text(
        "import numpy as np\n"
        "def loss(dim=1):\n"
        "    value = lambda y: np.where(y[..., 0] > 1.2, np.nan, 0.5 * np.sum(y * y, axis=-1))\n"
        "    return value, (lambda y: y), 1.0\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    case = write(tmp_path)
    runs = {
        "ok": hjb_cmd("run", case, "-o", str(tmp_path / "ok.h5")),
        "bad": hjb_cmd("run", case, "-o", str(tmp_path / "bad.h5"), "--set", "solve.eps=-1"),
        "nan": hjb_cmd("run", case, "-o", str(tmp_path / "nan.h5"), "--set", 'model.loss={name = "nanloss:loss"}'),
    }
    procs = {k: subprocess.Popen(v, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
             for k, v in runs.items()}
    done = {k: (p.wait(timeout=120), p.stderr.read()) for k, p in procs.items()}
    assert done["ok"] == (0, "")
    code, err = done["bad"]
    assert code == 2 and err == "hjb: solve.eps: must be positive, got -1\n"
    code, err = done["nan"]
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    # solver, step and grid node: the NaN (g = f = NaN for x > 1.2) is caught in the terminal data
    found = re.fullmatch(r"hjb: non-finite value: eps_hjb: terminal cost g: nan at step 0 at x = (\S+), y = (\S+)\n", err)
    assert found and 1.1 < float(found[1]) <= 1.3 and -2.0 <= float(found[2]) <= 2.0, err
    assert sorted(os.listdir(tmp_path)) == ["case.toml", "nanloss.py", "ok.h5"]


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def test_huge_grid_is_refused_before_allocation(tmp_path):
    """Under a 3 GiB address-space limit a 10^10-node grid is refused with exit 2 (an
    allocation attempt would die with MemoryError instead, exit 1)."""
    big = ["--set", "grid.x.points=100000", "--set", "grid.y.points=100000"]
    proc = subprocess.run(hjb_cmd("run", write(tmp_path), "-o", str(tmp_path / "o.h5"), *big),
                          capture_output=True, text=True, preexec_fn=_limit_address_space, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "grid: an eps-HJB grid of 10,000,000,000 nodes needs about" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_memory_share_is_configurable(tmp_path, capsys, monkeypatch):
    case = write(tmp_path)
    assert main(["run", case, "-o", str(tmp_path / "a.h5"), "--quiet", "--max-memory-share", "1e-9"]) == 2
    assert "more than 1e-07% of the" in capsys.readouterr().err
    monkeypatch.setenv("HJB_MEMORY_SHARE", "1e-9")
    assert main(["run", case, "-o", str(tmp_path / "b.h5"), "--quiet"]) == 2
    monkeypatch.setenv("HJB_MEMORY_SHARE", "0.5")
    assert main(["run", case, "-o", str(tmp_path / "c.h5"), "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["c.h5", "case.toml"]


# ------------------------------------------------------------------ nothing lost

def test_sigint_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    case, out = write(tmp_path), tmp_path / "out.h5"
    assert main(["run", case, "-o", str(out), "--quiet"]) == 0
    before = out.read_bytes()
    proc = subprocess.Popen(hjb_cmd("run", case, "-o", str(out), "--force", "-v", *LONG),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(proc, "running eps_hjb")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert "interrupted; no result written" in proc.stderr.read().decode()
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["case.toml", "out.h5"]


def test_sigint_during_a_sweep_keeps_finished_members_for_resume(tmp_path, capsys):
    case, out = write(tmp_path), tmp_path / "out.h5"
    sweep = ["--set", "grid.x.points=101", "--set", "grid.y.points=101", "--set", "solve.dt=0.0005",
             "--set", "solve.T=0.3", "--set", "solve.eps=[0.1, 0.01, 0.001]"]
    proc = subprocess.Popen(hjb_cmd("run", case, "-o", str(out), "--workers", "1", "-v", *sweep),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(proc, "finished eps=0.1 ")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert "finished sweep member(s) kept in" in proc.stderr.read().decode()
    partial = tmp_path / "out.h5.partial"
    assert "eps=0.1.h5" in os.listdir(partial) and not out.exists()
    assert all(not name.endswith(".tmp") for name in os.listdir(partial))
    kept = hjb.load(partial / "eps=0.1.h5")["value"]
    # Resume at the same resolution: the kept member is reused, not recomputed.
    assert main(["run", case, "-o", str(out), "--workers", "1", "--resume", "-v", *sweep]) == 0
    assert "resuming: " in capsys.readouterr().err
    result = hjb.load(out)
    assert list(result.members) == ["eps=0.1", "eps=0.01", "eps=0.001"]
    assert np.array_equal(result.members["eps=0.1"]["value"], kept)
    assert sorted(os.listdir(tmp_path)) == ["case.toml", "out.h5"]


# ------------------------------------------------------------------ progress and logging

def _on_pty(args):
    """Run hjb with stderr on a pseudo-terminal; return what it showed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a real terminal's size
    env = dict(os.environ, HJB_PROGRESS_DELAY="0")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    return proc, master


def _drain(proc, master):
    seen = b""
    while True:
        try:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:
                break
        except OSError:
            break
    os.close(master)
    return proc.wait(timeout=60), seen.decode(errors="replace")


def test_progress_bar_on_a_terminal_only_without_quiet(tmp_path):
    case = write(tmp_path)
    size = ["--set", "grid.x.points=201", "--set", "grid.y.points=201"]
    loud = _on_pty(hjb_cmd("run", case, "-o", str(tmp_path / "a.h5"), *size))
    quiet = _on_pty(hjb_cmd("run", case, "-o", str(tmp_path / "b.h5"), "--quiet", *size))
    code, shown = _drain(*loud)
    assert code == 0 and "step" in shown and "%|" in shown, shown
    code, shown = _drain(*quiet)
    assert code == 0 and shown == "", shown


def test_verbose_logs_and_default_is_silent(tmp_path, capsys):
    case = write(tmp_path)
    assert main(["run", case, "-o", str(tmp_path / "a.h5"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""                            # not a tty: no bar, no log
    assert main(["run", case, "-o", str(tmp_path / "b.h5"), "--quiet", "-v"]) == 0
    err = capsys.readouterr().err
    assert "hjb: eps_hjb:" in err and "solved in" in err


# ------------------------------------------------------------------ plots of every kind

def _synthetic(kind):
    """Results laid out as SPEC section 10 says, for kinds whose solvers live elsewhere."""
    r = Result(kind, case_text='title = "synthetic"\n[model]\ngamma = 2.0\n[solve]\nt = 1.0\n')
    x = np.linspace(-1, 1, 21)
    if kind == "cell":
        r.coords.update(y1=x, y2=x)
        Y1, Y2 = np.meshgrid(x, x, indexing="ij")
        r.add("omega", np.where(Y1**2 + Y2**2 < 1, 1 - Y1**2 - Y2**2, np.nan), ("y1", "y2"))
        r.attrs["delta_omega_at_center"] = -0.5
    elif kind == "sde":
        rng = np.random.default_rng(0)
        r.add("X_T", rng.normal(size=500), ("path",))
        r.add("g_X_T", rng.normal(size=500) ** 2, ("path",))
        r.attrs["x_hat_T"] = 0.1
    else:
        r.coords["x"] = x
        r.add("value", x**2, ("x",))
    return r


@pytest.mark.parametrize("kind", ["cell", "sde", "viscous_hj", "hopf_lax", "some_future_kind"])
def test_every_kind_has_a_picture(tmp_path, kind):
    result = _synthetic(kind)
    path = save_figure(result, tmp_path / f"{kind}.png")
    assert open(path, "rb").read(4) == b"\x89PNG"
    fig = figure(result)
    assert "synthetic" in fig._suptitle.get_text() and "γ = 2" in fig._suptitle.get_text()
    for ax in fig.axes:
        if ax.get_label() != "<colorbar>":
            assert ax.get_xlabel(), kind                              # every panel has labelled axes
    assert (kind in KINDS and KINDS[kind].plot is not None) or kind == "some_future_kind"


@pytest.mark.parametrize("kind,extra", [
    ("eps_hjb", ["solve.eps=[0.1, 0.01]"]), ("effective", []), ("egd", ["solve.T=[0.1, 0.2]"]), ("hbar", []),
])
def test_pictures_of_real_results(kind, extra):
    data = {"eps_hjb": CASE,
            "effective": dict(CASE, kind="effective", grid={"x": CASE["grid"]["x"]}, solve={"T": 0.2}),
            "egd": dict(CASE, kind="egd", grid={"x": CASE["grid"]["x"]}, solve={"T": 0.2}),
            "hbar": {"kind": "hbar", "title": "cli test", "model": CASE["model"],
                     "solve": {"x": [0.0, 1.0, 0.0, 1.0], "p": [1.0, 1.0, -1.0, -1.0]}}}[kind]
    fig = figure(hjb.run(case_from_dict(data, extra)))
    assert fig._suptitle.get_text().startswith("cli test\n" + kind) and "γ = 2" in fig._suptitle.get_text()
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert panels and all(ax.get_xlabel() and ax.get_ylabel() for ax in panels)
    if extra:                                        # a sweep: one labelled curve per member
        labels = [t.get_text() for ax in panels if ax.get_legend() for t in ax.get_legend().get_texts()]
        assert any("0.01" in t or "T = 0.2" in t for t in labels), labels      # "$T = 0.2$", as printed
