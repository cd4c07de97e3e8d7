"""Structure of the package: no module reads another's private names; layers point one way.

Both checks parse the sources (no imports), so they see lazy imports inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "interplay"
MODULES = sorted(ROOT.rglob("*.py"))

# Lowest first. A module may import only from its own unit or from a unit listed before it.
# A unit is a subpackage of interplay or a top-level module; docs/design.md §7 explains it.
LAYERS = (
    "errors",
    "atomic",
    "random_state",
    "r2",
    "codes",
    "spectral",
    "sparse_fourier",
    "models",
    "values",
    "runtime",
    "solvers",
    "metrics",
    "display",
    "report",
    "explain",
    "explain_text",
    "__init__",
    "cli",
    "demo_tabular",
    "demo_llm",
    "demo_image",
    "demo",
)

# The result types' presentation methods (to_pandas, _repr_html_, plot_*, to_shapiq) import
# the display layer inside the method, as pandas' DataFrame.plot does: loading spectral never
# loads display. These are the only upward imports, and only inside functions.
LAZY_PRESENTATION = {("spectral", "display"), ("spectral", "report")}


def _unit(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _interplay_imports(tree: ast.AST) -> list[tuple[ast.AST, str, list[str]]]:
    """(node, module, imported names) for every absolute import of interplay in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "interplay uses absolute imports only"
            if (node.module or "").split(".")[0] == "interplay":
                found.append((node, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node, a.name, []) for a in node.names if a.name.split(".")[0] == "interplay"]
    return found


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name a module defines: functions, classes, variables, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_reads(paths: list[Path], root: Path = ROOT) -> list[str]:
    """``path:line: name`` for each private name a module reads from another module.

    A private name of interplay is one some interplay module defines. It is read from another
    module when it is imported (``from interplay.m import _x``) or when ``obj._x`` appears in a
    module that does not itself define ``_x`` (``self._x`` and ``cls._x`` are always its own).
    Private names of third-party objects are not interplay's and are not counted.
    """
    trees = {path: ast.parse(path.read_text()) for path in paths}
    defined = {path: _defined_names(tree) for path, tree in trees.items()}
    ours = {name for names in defined.values() for name in names if _private(name)}
    offenders = []
    for path, tree in trees.items():
        where = path.relative_to(root)
        for node, module, names in _interplay_imports(tree):
            offenders += [f"{where}:{node.lineno}: {module}.{a}" for a in names if _private(a)]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr in ours
                and node.attr not in defined[path]
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                offenders.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return offenders


def upward_imports(paths: list[Path], root: Path = ROOT) -> list[str]:
    """``path:line: unit -> unit`` for each import of a unit at or above the importer's layer."""
    rank = {unit: i for i, unit in enumerate(LAYERS)}
    offenders = []
    for path in paths:
        tree = ast.parse(path.read_text())
        unit = _unit(path, root)
        lazy = {
            id(inner)
            for fn in ast.walk(tree)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(fn)
        }
        for node, module, names in _interplay_imports(tree):
            parts = module.split(".")
            # ``from interplay import x`` imports the submodule x or the package's own API
            target = parts[1] if len(parts) > 1 else "__init__"
            if target == "__init__" and names and all(n in rank for n in names):
                targets = names
            else:
                targets = [target]
            for target in targets:
                if target == unit or rank.get(target, len(LAYERS)) < rank[unit]:
                    continue
                if (unit, target) in LAZY_PRESENTATION and id(node) in lazy:
                    continue
                offenders.append(f"{path.relative_to(root)}:{node.lineno}: {unit} -> {target}")
    return offenders


def test_every_unit_has_a_layer():
    assert {_unit(p, ROOT) for p in MODULES} <= set(LAYERS)


def test_no_module_reads_private_names_of_another_module():
    assert private_reads(MODULES) == []


def test_lower_layers_never_import_upper_ones():
    assert upward_imports(MODULES) == []


def _package(tmp_path: Path, modules: dict[str, str]) -> list[Path]:
    """Write a throwaway package under ``tmp_path``: {relative path: source}."""
    paths = []
    for relative, text in modules.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


OWN = "class B:\n    def __init__(self):\n        self._coef = 1\n\n    def same(self, o):\n        return o._coef\n"
RESULT = "class Result:\n    def __init__(self):\n        self._coef = 0\n\n    def _like(self):\n        pass\n"


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("from interplay.spectral.result import _helper\n", True),
        ("def f(result):\n    return result._coef\n", True),
        ("from interplay.spectral import result\nx = result.Result._like\n", True),
        ("def f(result):\n    return result.coef\n", False),
        ("def f(tokenizer):\n    return tokenizer._tokenizer\n", False),  # not interplay's
        (OWN, False),
    ],
)
def test_the_private_name_check_catches_reads_from_other_modules(tmp_path, source, caught):
    paths = _package(tmp_path, {"spectral/result.py": RESULT, "metrics.py": source})
    assert bool(private_reads(paths, tmp_path)) is caught


@pytest.mark.parametrize(
    ("relative", "source", "caught"),
    [
        ("values/fake.py", "from interplay.solvers.base import Solver\n", True),
        ("values/fake.py", "def f():\n    from interplay.solvers import SPEX\n", True),
        ("spectral/fake.py", "from interplay.display.plots import plot_network\n", True),
        ("spectral/fake.py", "def f():\n    from interplay.display import plots\n", False),
        ("codes/fake.py", "from interplay import explain\n", True),
        ("codes/fake.py", "import interplay.metrics\n", True),
        ("solvers/fake.py", "from interplay.values.base import as_value_function\n", False),
        ("solvers/fake.py", "from interplay.solvers.base import Solver\n", False),
    ],
)
def test_the_layer_check_catches_upward_imports(tmp_path, relative, source, caught):
    paths = _package(tmp_path, {relative: source})
    assert bool(upward_imports(paths, tmp_path)) is caught


def test_sources_and_docs_cite_only_files_in_the_repository():
    """Design notes are cited as "design §N" (docs/design.md), never as an outside file."""
    repo = ROOT.parents[1]
    files = [
        *MODULES,
        *sorted((repo / "benchmarks").rglob("*.py")),
        *sorted((repo / "scripts").rglob("*.py")),
        repo / "README.md",
        *sorted((repo / "docs").glob("*.md")),
    ]
    outside = ("DESIGN §", "DESIGN.md", "../shared", "/work/")
    offenders = [
        f"{path.relative_to(repo)}:{line_no}: {line.strip()}"
        for path in files
        for line_no, line in enumerate(path.read_text().splitlines(), start=1)
        if any(cite in line for cite in outside)
    ]
    assert offenders == []
