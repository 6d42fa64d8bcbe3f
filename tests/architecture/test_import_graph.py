"""The package's layers: imports run only downward and form no cycle.

The layers are the folders of ``gandyn/`` (docs/architecture.md draws them).
Every import statement of every module counts, including imports inside
functions (they load upward modules just as well, only later). The checker is
tested on a made-up package too, so that it is known to fail when it should.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gandyn"

#: Rank of each layer: a module may import layers of strictly lower rank, its own layer, and
#: the base modules at the package root. Layers of equal rank are siblings and must not import
#: each other.
LAYERS: Mapping[str, int] = {
    "symbolic": 1,
    "games": 2,
    "derivation": 3,
    "rules": 4,
    "dynamics": 5,
    "equilibria": 5,
    "explain": 5,
    "runs": 6,
    "sweeps": 7,
    "io": 8,
    "report": 8,
    "plotting": 9,
    "explore": 9,
    "study": 10,
    "cli": 10,
}
#: Modules at the package root that every layer may use; they import no layer.
BASE = {"errors", "arrays", "jsondata", "files", "limits", "tables"}
#: Root modules outside the layering: the lazy public API and ``python -m gandyn``.
ENTRY = {"__init__", "__main__"}


def module_name(path: Path, package: Path) -> str:
    """``gandyn/sweeps/plan.py`` -> ``gandyn.sweeps.plan``; ``__init__`` names its package."""
    parts = path.relative_to(package.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Every module of the package that ``source`` imports, at any depth of the code."""
    root = module.split(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.split(".")[0] == root)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != root:
                continue
            if target == root:  # "from gandyn import x": x is a module or a name of __init__
                yield from (f"{root}.{alias.name}" for alias in node.names)
            else:
                yield target
                # "from gandyn.games import losses" imports the module gandyn.games.losses
                yield from (f"{target}.{alias.name}" for alias in node.names)


def layer_of(module: str) -> str:
    """The layer (folder) or root module a dotted name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def violations(package: Path) -> list[str]:
    """Imports that go upward or sideways between layers, and modules in no layer."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        mine = layer_of(module)
        if mine in ENTRY:
            continue
        if mine not in LAYERS and mine not in BASE:
            found.append(f"{module}: in no layer (add its folder to the layers)")
            continue
        for target in imported_modules(path.read_text(encoding="utf-8"), module,
                                       path.name == "__init__.py"):
            other = layer_of(target)
            if other == mine or (other not in LAYERS and other not in BASE):
                continue  # its own layer, or a name of gandyn/__init__ (the version)
            if other in BASE and mine not in BASE:
                continue
            if other in BASE and mine in BASE:
                continue
            # one line per module and layer it reaches ("from x import name" names x twice)
            target = ".".join(target.split(".")[:2])
            if mine in BASE:
                found.append(f"{module} -> {target}: a base module imports a layer")
            elif LAYERS[other] > LAYERS[mine]:
                found.append(f"{module} -> {target}: upward ({mine} -> {other})")
            elif LAYERS[other] == LAYERS[mine]:
                found.append(f"{module} -> {target}: sideways between siblings {mine}, {other}")
    return list(dict.fromkeys(found))


def module_cycles(package: Path) -> list[list[str]]:
    """Strongly connected sets of modules (Tarjan), each a cycle of imports."""
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set(imported_modules(path.read_text(encoding="utf-8"), module,
                                       path.name == "__init__.py"))
        # "from gandyn.x import name" may name a function, not a module: keep module targets.
        graph[module] = {t for t in targets if t in modules and t != module}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _ignore_package_inits(cycles: list[list[str]]) -> list[list[str]]:
    # A package's __init__ re-exporting its own modules, which import a sibling module through
    # the package name, is the usual shape of a package and not a cycle between layers.
    return [c for c in cycles if len({layer_of(m) for m in c}) > 1 or
            not any(m.count(".") == 1 for m in c)]


def test_every_import_goes_downward() -> None:
    assert violations(PACKAGE) == []


def test_no_import_cycles() -> None:
    assert _ignore_package_inits(module_cycles(PACKAGE)) == []


def test_import_gandyn_loads_no_numerics() -> None:
    import subprocess
    import sys

    code = ("import sys, gandyn; heavy = [m for m in ('numpy', 'sympy', 'scipy', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / "gandyn" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "gandyn"


@pytest.mark.parametrize(("files", "expected"), [
    ({"games/a.py": "from gandyn.runs.spec import RunSpec\n", "runs/spec.py": ""},
     "upward (games -> runs)"),
    ({"dynamics/a.py": "def f():\n    from gandyn.explain import series\n",
      "explain/series.py": ""}, "sideways between siblings dynamics, explain"),
    ({"errors.py": "import gandyn.games.losses\n", "games/losses.py": ""},
     "a base module imports a layer"),
    ({"newlayer/a.py": ""}, "in no layer"),
])
def test_the_checker_finds_violations(tmp_path: Path, files: dict[str, str],
                                      expected: str) -> None:
    package = _write(tmp_path, {"__init__.py": "", **files})
    assert any(expected in line for line in violations(package)), violations(package)


def test_the_checker_finds_cycles(tmp_path: Path) -> None:
    package = _write(tmp_path, {
        "__init__.py": "",
        "games/__init__.py": "",
        "games/a.py": "from gandyn.games.b import x\n",
        "games/b.py": "def f():\n    from gandyn.games import a\n",
    })
    assert module_cycles(package) == [["gandyn.games.a", "gandyn.games.b"]]


def test_readme_layout_names_every_folder() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Layout: one folder a layer", 1)[1].split("```", 2)[1]
    listed = {line.split()[0].rstrip("/") for line in block.splitlines()[2:] if line.strip()
              if line.split()[0].endswith("/")}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert listed == folders
    assert folders <= set(LAYERS)  # every folder is a layer the test knows
