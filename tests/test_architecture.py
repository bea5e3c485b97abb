"""The layout's rules (issue 10): no import cycle (function-level imports included), small
modules, nothing registered by importing, one explicit registry of kinds and of H-bar methods."""
import ast
import pathlib

import pytest

import hjb

PACKAGE = pathlib.Path(hjb.__file__).parent
#: "No module over about 300 lines."
MAX_LINES = 300


def _modules() -> dict:
    """{dotted module name: path} for every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a ``from ... import`` refers to."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict:
    """{module: set of hjb modules it imports}, walking the whole AST (imports inside
    functions and classes count too).  ``from pkg import name`` is an edge to ``pkg.name``
    when that is a module, else to ``pkg``."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        edges = set()
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert "hjb.runner.case" in graph["hjb.cli"]                 # imported inside cmd_list
    assert "hjb.operators.multigrid" in graph["hjb.solvers.ball_solve"]


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_layers_point_one_way():
    """Numerics never import the run layer, the output layer or the CLI."""
    graph = import_graph()
    core = [m for m in graph if m.split(".")[1:2] and m.split(".")[1] in
            ("operators", "solvers", "hbar", "reference", "stochastic", "model", "losses", "grid", "points",
             "errors", "limits", "entropy", "landscape", "extrapolation")]
    assert core
    for module in core:
        bad = {t for t in graph[module] if t.startswith(("hjb.runner", "hjb.cli", "hjb.output"))}
        assert not bad, (module, bad)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_are_small(name):
    lines = len(_modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines"


def test_registries_are_explicit_lists():
    """Kinds and H-bar methods are listed where they are looked up; nothing adds to them on import."""
    from hjb.hbar import methods
    from hjb.runner import registry
    assert set(methods.METHODS) == {"quadrature", "cell", "markov"}
    assert set(registry.KINDS) == {spec.name for module in registry.KIND_MODULES for spec in module.SPECS}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:                 # module level: no item assignment into another module's dict
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    assert not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)), path


def test_kind_defaults_come_from_the_solvers():
    """A [solve] default written in a kind module is the solver's own default."""
    import inspect

    from hjb.runner.registry import KINDS
    from hjb.solvers.effective import solve_effective
    from hjb.solvers.viscous import solve_viscous_hj
    for kind, solver in (("effective", solve_effective), ("egd", solve_effective), ("viscous_hj", solve_viscous_hj)):
        params = inspect.signature(solver).parameters
        for key, spec in KINDS[kind].solve.items():
            if spec.default is not None and key in params:
                assert spec.default == params[key].default, (kind, key)


def test_import_hjb_loads_no_solver_and_no_heavy_library():
    import subprocess
    import sys
    code = ("import sys, hjb; heavy = [m for m in ('hjb.solvers.eps_hjb', 'scipy.sparse', 'scipy.signal', "
            "'scipy.stats', 'matplotlib', 'dask', 'h5py') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
