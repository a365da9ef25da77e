"""The house's rules, checked on the source: arrows point down, files stay small, no module
imports another's underscore names (DESIGN.md: "Layers of the house")."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "npgrad"
MAX_LINES = 700
MAX_LINES_MODEL = 600


def module_name(path):
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def resolve(name):
    """The npgrad module an import names (a submodule when one exists, else the package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(path):
    """(module imported, names imported, line) for every npgrad import, lazy ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("npgrad"):
                    found.append((resolve(alias.name), [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if not base.startswith("npgrad"):
                continue
            for alias in node.names:
                target = resolve(f"{base}.{alias.name}")
                if target == f"{base}.{alias.name}":  # a submodule
                    found.append((target, [], node.lineno))
                else:
                    found.append((resolve(base), [alias.name], node.lineno))
    return found


def graph():
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {target for target, _, _ in imports(path) if target and target != name}
    return edges


def package_of(module):
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def test_no_import_circles_between_modules():
    edges = graph()
    # a package's __init__ re-exports its submodules: edges into a package's own __init__
    # from inside the package are what a circle through re-exports looks like, so keep them
    state, stack_path, circles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack_path.append(node)
        for nxt in sorted(edges[node]):
            if MODULES[nxt].name == "__init__.py" and not node.startswith(nxt + "."):
                # importing a package's public name from outside it: depend on the package
                pass
            if state.get(nxt) == "open":
                circles.append(stack_path[stack_path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack_path.pop()
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    # package __init__ files import their own submodules; a submodule importing back from its
    # package's __init__ is reported too
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles[:20])


def test_no_module_imports_another_modules_underscore_names():
    offenders = []
    for name, path in MODULES.items():
        for target, names, line in imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != name:
                offenders.append(f"{path.relative_to(SRC)}:{line} imports {private} from {target}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_source_files_stay_small(path):
    limit = MAX_LINES_MODEL if path.relative_to(SRC).as_posix() == "models/model.py" else MAX_LINES
    count = len(path.read_text().splitlines())
    assert count <= limit, f"{path.relative_to(SRC)} has {count} lines (at most {limit})"


def test_the_autograd_core_knows_no_op_and_no_layer():
    for name, path in MODULES.items():
        if name.startswith("npgrad.autograd"):
            targets = {t for t, _, _ in imports(path)}
            assert all(t.startswith("npgrad.autograd") for t in targets), (name, targets)
