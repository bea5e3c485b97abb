"""The interrupt table: SIGINT and SIGTERM sent at three moments of a run, in a real process.

    python scripts/interrupt_table.py [--quick]

Moments: during a solve, in the write window (while the result file is written and
checked), and between the members of a sweep.  Each row runs ``hjb run`` in a child
process that overwrites an existing result with --force; the child prints a marker when
the moment is reached and the parent sends the signal then.  Reported: the exit code,
whether the previous file is byte for byte unchanged, whether a temporary file is left,
and what happened to the finished sweep members (kept in OUT.h5.partial for --resume).
Expected everywhere: exit 130, previous file unchanged, no temporary.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hjb.output.tables import Table  # noqa: E402

CASE = ('kind = "eps_hjb"\ntitle = "interrupts"\n[model]\ngamma = 2.0\n[model.loss]\nname = "quadratic"\n'
        '[grid]\nx = {{ lower = -3.0, upper = 3.0, points = {n} }}\ny = {{ lower = -2.0, upper = 2.0, points = {n} }}\n'
        '[solve]\nT = {T}\neps = {eps}\n')

#: The child: hjb's main with a marker (and a pause) at the moment under test.
CHILD = r'''
import sys, time
import hjb.output.hdf5 as hdf5
import hjb.runner.run as run
moment = sys.argv[1]
if moment == "write":
    real = hdf5.verify
    def verify(path, result):
        print("MOMENT", file=sys.stderr, flush=True); time.sleep(3); real(path, result)
    hdf5.verify = verify
elif moment == "between members":
    real_member = run.run_member
    calls = []
    def member(data, on_step=None):
        calls.append(1)
        if len(calls) == 2:
            print("MOMENT", file=sys.stderr, flush=True); time.sleep(3)
        return real_member(data, on_step)
    run.run_member = member
elif moment == "solve":
    real_member = run.run_member
    def member(data, on_step=None):
        print("MOMENT", file=sys.stderr, flush=True)      # the solve starts now and runs for long
        return real_member(data, on_step)
    run.run_member = member
from hjb.cli import main
sys.exit(main(sys.argv[2:]))
'''


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def trial(folder, moment, signum, points):
    case = os.path.join(folder, "case.toml")
    out = os.path.join(folder, "out.h5")
    for name in os.listdir(folder):
        if name != "case.toml":
            path = os.path.join(folder, name)
            subprocess.run(["rm", "-rf", path])
    sweep = "[0.1, 0.05, 0.02]" if moment == "between members" else "0.1"
    T = "0.2" if moment != "solve" else "500.0"
    with open(case, "w") as fh:
        fh.write(CASE.format(n=21, T="0.2", eps="0.1"))
    subprocess.run([sys.executable, "-m", "hjb", "run", case, "-o", out, "--quiet"], check=True)
    before = digest(out)
    with open(case, "w") as fh:
        fh.write(CASE.format(n=points, T=T, eps=sweep))
    child = subprocess.Popen([sys.executable, "-c", CHILD, moment, "run", case, "-o", out, "--force", "--quiet"],
                             stderr=subprocess.PIPE, text=True)
    for line in child.stderr:
        if line.startswith("MOMENT"):
            break
    if moment == "solve":
        time.sleep(0.5)                                      # well inside the time loop
    child.send_signal(signum)
    _, err = child.communicate(timeout=120)
    partial = out + ".partial"
    kept = len(os.listdir(partial)) if os.path.isdir(partial) else 0
    temporaries = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    return child.returncode, digest(out) == before, not temporaries, kept, err.strip().splitlines()[-1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller solve (the same moments)")
    args = parser.parse_args(argv)
    points = 201 if args.quick else 401
    table = Table(["moment", "signal", "exit code", "previous file unchanged", "no temporary left",
                   "sweep members kept"], caption="hjb run --force interrupted at three moments")
    with tempfile.TemporaryDirectory() as folder:
        for moment in ("solve", "write", "between members"):
            for signum in (signal.SIGINT, signal.SIGTERM):
                code, same, clean, kept, last = trial(folder, moment, signum, points)
                table.add(moment, signal.Signals(signum).name, code, "yes" if same else "NO",
                          "yes" if clean else "NO", kept)
    print(table.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
