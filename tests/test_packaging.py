"""A package that installs anywhere: its metadata, the shipped cases as package data, and a real wheel.

The cases live in the repository's ``cases/`` folder and are mapped into the
package as ``hjb.cases`` (pyproject.toml), so that after any install ``hjb list``
shows them and ``hjb run NAME`` runs one, from whatever folder.  The last test
builds a wheel, installs it into a fresh virtual environment that borrows its
dependencies from this one (nothing is downloaded for them) and runs it from
another folder.
"""
import ast
import glob
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

import hjb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYPROJECT = os.path.join(ROOT, "pyproject.toml")
CASES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "cases", "*.toml")))


def pyproject() -> dict:
    with open(PYPROJECT, "rb") as fh:
        return tomllib.load(fh)


def clean_env() -> dict:
    """This environment without PYTHONPATH, so that a child finds hjb the way a user would."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def hjb_cli(*args, cwd, python=sys.executable, timeout=300):
    return subprocess.run([python, "-m", "hjb", *args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(), timeout=timeout)


# ------------------------------------------------------------------ metadata

def test_pyproject_is_the_only_build_configuration():
    assert not os.path.exists(os.path.join(ROOT, "setup.cfg")) and not os.path.exists(os.path.join(ROOT, "setup.py"))
    project = pyproject()["project"]
    assert project["name"] == "hjb" and project["requires-python"] == ">=3.10"
    assert project["scripts"] == {"hjb": "hjb.cli:main"}
    assert project["license"] == "MIT" and project["readme"] == "README.md"
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hjb.version.__version__"}
    assert "sphinx" in " ".join(project["optional-dependencies"]["test"])
    assert "sphinx" in " ".join(project["optional-dependencies"]["docs"])


def test_every_subpackage_is_listed():
    """pyproject.toml lists the packages (hjb.cases is mapped from cases/): none may be missing."""
    found = {"hjb.cases"}
    for folder, _, files in os.walk(os.path.join(ROOT, "hjb")):
        if "__init__.py" in files:
            found.add(os.path.relpath(folder, ROOT).replace(os.sep, "."))
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    assert listed == found, f"add to [tool.setuptools] packages: {sorted(found - listed)}; " \
                            f"remove: {sorted(listed - found)}"


def _hjb_imports() -> set:
    """Top-level names of the modules imported anywhere in hjb/ (dotted: dask.distributed too)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "hjb", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                names.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return names


def test_every_dependency_is_imported_and_every_import_declared():
    """A dependency nothing imports is a defect; so is an import that no dependency or extra provides."""
    from packaging.requirements import Requirement
    imported = _hjb_imports()
    declared = set()
    for line in pyproject()["project"]["dependencies"]:
        req = Requirement(line)
        module = req.name.lower().replace("-", "_")
        declared.add(module)
        assert module in imported, f"dependency {req.name} is imported nowhere in hjb/"
        for extra in req.extras:                     # dask[distributed]: dask.distributed is used
            assert f"{module}.{extra}" in imported, f"{req.name}[{extra}] is imported nowhere in hjb/"
            declared.add(extra)
    for extra in pyproject()["project"]["optional-dependencies"].values():   # optional, imported when used
        declared.update(Requirement(line).name.lower().replace("-", "_") for line in extra)
    # tomllib is standard from Python 3.11 on (below, its back-port tomli is a dependency)
    third_party = {name for name in imported if "." not in name} - set(sys.stdlib_module_names) - {"hjb", "tomllib"}
    assert third_party <= declared, f"imported but not declared: {sorted(third_party - declared)}"


def test_one_version_everywhere():
    version = hjb.__version__
    assert importlib.metadata.version("hjb") == version, "reinstall: python -m pip install -e '.[test]'"
    with open(os.path.join(ROOT, "CITATION.cff"), encoding="utf-8") as fh:
        cff = fh.read()
    assert re.search(rf'^version: "?{re.escape(version)}"?$', cff, re.M), "CITATION.cff has another version"
    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as fh:
        changelog = fh.read()
    assert "## [Unreleased]" in changelog or f"## [{version}]" in changelog
    out = hjb_cli("--version", cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == f"hjb {version}"


# ------------------------------------------------------------------ the shipped cases, from anywhere

def _listed(stdout: str) -> list:
    return [line.split()[0] for line in stdout.strip().splitlines()]


def test_list_from_another_folder_shows_every_shipped_case(tmp_path):
    out = hjb_cli("list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _listed(out.stdout) == CASES and len(CASES) >= 8


def test_list_reads_the_case_files_only():
    code = ("import sys\nfrom hjb.cli import main\nassert main(['list']) == 0\n"
            "loaded = [m for m in sys.modules if m.startswith(('hjb.solvers', 'hjb.hbar', 'hjb.operators', "
            "'hjb.stochastic', 'hjb.reference', 'hjb.runner.kinds', 'scipy', 'matplotlib', 'dask', 'h5py'))]\n"
            "assert not loaded, loaded\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env())
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("name", ["quadratic_value", "quadratic_value.toml"])
def test_run_a_shipped_case_by_name_from_another_folder(tmp_path, name):
    out = hjb_cli("run", name, "--ci", "-o", "out.h5", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = hjb.load(tmp_path / "out.h5")
    assert result.kind == "eps_hjb" and result["value"].shape == (81, 81)     # its [ci] resolution


def test_an_existing_path_wins_over_a_shipped_name(tmp_path):
    text = open(os.path.join(ROOT, "cases", "quadratic_hbar.toml")).read()
    (tmp_path / "quadratic_value.toml").write_text(text)             # a local file of that name
    out = hjb_cli("run", "quadratic_value.toml", "-o", "out.h5", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert hjb.load(tmp_path / "out.h5").kind == "hbar"


def test_an_unknown_case_name_is_one_line_and_exit_code_2(tmp_path):
    out = hjb_cli("run", "no_such_case", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr == "hjb: no_such_case: case file not found\n"
    out = hjb_cli("run", "quadratic_valu", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert out.stderr.startswith("hjb: quadratic_valu: case file not found (did you mean")
    assert "'quadratic_value'" in out.stderr
    assert os.listdir(tmp_path) == []                                # nothing written


# ------------------------------------------------------------------ a real wheel in a fresh environment

def _build_isolation() -> list:
    """Build with the installed setuptools when it is recent enough (nothing downloaded),
    else in pip's isolated build environment (which fetches setuptools >= 77)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if major >= 77 else []


def test_the_wheel_installs_and_runs_from_another_folder(tmp_path):
    # build from a copy of exactly what the package is made of (nothing else is needed)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.h5", "*.partial")
    for name in ("hjb", "cases"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=skip)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q",
                            "-w", str(tmp_path / "dist"), *_build_isolation()],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = glob.glob(str(tmp_path / "dist" / "hjb-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert sorted(os.path.basename(n) for n in names if n.startswith("hjb/cases/") and n.endswith(".toml")) == CASES
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert f"Version: {hjb.__version__}" in meta and "Requires-Python: >=3.10" in meta

    # a fresh environment that borrows the dependencies of this one
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bindir / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
                                "-q", wheel], capture_output=True, text=True, env=clean_env(), timeout=600)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([python, "-c", "import hjb, importlib.resources as r; "
                            "print(hjb.__file__); print(r.files('hjb.cases'))"],
                           cwd=elsewhere, capture_output=True, text=True, env=clean_env(), check=True)
    for line in where.stdout.splitlines():                           # the installed copy, not this tree
        assert os.path.realpath(line).startswith(os.path.realpath(venv)), where.stdout
    hjb_exe = str(bindir / "hjb")
    listed = subprocess.run([hjb_exe, "list"], cwd=elsewhere, capture_output=True, text=True, env=clean_env())
    assert listed.returncode == 0, listed.stderr
    assert _listed(listed.stdout) == CASES
    ran = subprocess.run([hjb_exe, "run", "quadratic_value", "--ci", "-o", "out.h5"], cwd=elsewhere,
                         capture_output=True, text=True, env=clean_env(), timeout=600)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "eps_hjb: wrote out.h5" and (elsewhere / "out.h5").is_file()
