"""Benchmark of ``import hjb`` against the libraries it cannot do without (issue 13).

Times whole processes, ``python -c "import hjb"`` against
``python -c "import numpy, scipy.sparse, h5py"`` (and a bare ``python -c pass``),
interleaved, best of --repeat each, and prints the ratio and each child's peak
resident memory (from os.wait4).  Target: the ratio at most 1.5.

    python scripts/bench_import.py [--repeat 15] [--quick]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": "pass",
    "import numpy, scipy.sparse, h5py": "import numpy, scipy.sparse, h5py",
    "import hjb": "import hjb",
    "import hjb; hjb.Grid; hjb.make_loss": "import hjb; hjb.Grid; hjb.make_loss",
}


def timed(code: str):
    """(wall seconds, peak RSS in MiB) of one fresh interpreter running ``code``."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_import: {code!r} failed")
    return wall, usage.ru_maxrss / 1024.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="best of this many processes per command")
    parser.add_argument("--quick", action="store_true", help="three processes per command, for CI")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else max(1, args.repeat)
    best = {name: (float("inf"), 0.0) for name in COMMANDS}
    for _ in range(repeat):                      # interleaved, so that load on the machine hits all alike
        for name, code in COMMANDS.items():
            wall, rss = timed(code)
            best[name] = (min(best[name][0], wall), max(best[name][1], rss))
    # imported only now: a child forked from a parent that holds numpy would count its pages
    from hjb.output.tables import Table
    base = best["import numpy, scipy.sparse, h5py"][0]
    table = Table(["command", "best wall s", "/ numpy+scipy.sparse+h5py", "peak RSS MiB"],
                  caption=f"whole-process import time, best of {repeat}")
    for name, (wall, rss) in best.items():
        table.add(name, wall, wall / base, rss)
    print(table.emit())
    ratio = best["import hjb"][0] / base
    print(f"\nimport hjb / import numpy, scipy.sparse, h5py = {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
