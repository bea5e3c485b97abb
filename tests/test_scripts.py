"""Every table script and benchmark runs at CI size (--quick) and writes what it promises."""
import os
import subprocess
import sys

import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts")

TABLES = {
    "convergence_eps.py": ["convergence_eps_quadratic.tex", "convergence_eps_wide_narrow.csv", "convergence_eps.png"],
    "convergence_h.py": ["convergence_h.tex", "convergence_h.csv", "convergence_h.png"],
    "cell_table.py": ["cell_schedule_quadratic.tex", "cell_map_wide_narrow.csv", "cell_map.png"],
    "sde_table.py": ["sde_theorem1.tex", "sde_value.csv", "sde_invariant.csv"],
    "smoothing.py": ["smoothing.tex", "smoothing.csv", "smoothing.png"],
    "escape_table.py": ["escape_kramers.tex", "escape_minimum.csv", "escape_saddle.csv", "escape_batch.tex",
                        "escape_drift.csv", "escape.png"],
}


def _run(*args, cwd):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("script", sorted(TABLES))
def test_table_script_quick(script, tmp_path):
    out = _run(os.path.join(SCRIPTS, script), "--quick", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert "|---:|" in out                                        # a Markdown table on stdout
    for name in TABLES[script]:
        path = tmp_path / "out" / name
        assert path.exists() and path.stat().st_size > 0, name
        if name.endswith(".tex"):
            assert r"\toprule" in path.read_text()


@pytest.mark.parametrize("script", ["bench_eps_hjb.py", "bench_cell.py", "bench_exit_time.py", "interrupt_table.py",
                                    "bench_memory.py", "bench_import.py", "bench_effective.py",
                                    "bench_hj_reachability.py"])
def test_benchmark_quick(script, tmp_path):
    out = _run(os.path.join(SCRIPTS, script), "--quick", cwd=tmp_path)
    assert "|---:|" in out
