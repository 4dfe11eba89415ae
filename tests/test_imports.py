"""The package's import graph: no circle, and no arrow running back up.

The graph is read statically with ast from every module's source, local
imports (inside functions) included, so it holds whatever runs. Each
module belongs to one layer, listed from the top (what a user starts)
down to the foundations; a module may import its own layer or the
layers below it, never one above, and no import may lead back to where
it started. A module's import of its own package (from . import x,
where x is defined in the package's __init__) is not an arrow: Python
runs that __init__ before the module in any case.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "microgpt"

# From the top down. A name ending in "." stands for a whole package.
LAYERS = [
    (
        "entry points",
        {
            "microgpt.__main__",
            "microgpt.cli",
            "microgpt.distributed_run",
            "microgpt.bench.__main__",
            "microgpt.experiments.__main__",
        },
    ),
    (
        "commands and tools",
        {
            "microgpt.commands",
            "microgpt.commands_text",
            "microgpt.options",
            "microgpt.progress",
            "microgpt.heap",
            "microgpt.bench.",
            "microgpt.course.",
            "microgpt.experiments.",
            "microgpt.figures.",
        },
    ),
    (
        "training runs",
        {
            "microgpt.train",
            "microgpt.text",
            "microgpt.distributed",
            "microgpt.ablation",
            "microgpt.checkpoint",
            "microgpt.cost",
        },
    ),
    (
        "the model",
        {
            "microgpt.gpt_scalar",
            "microgpt.gpt_numpy",
            "microgpt.gpt_torch",
            "microgpt.gpt2",
            "microgpt.layers_numpy",
            "microgpt.batch",
            "microgpt.engine",
            "microgpt.speedups",
            "microgpt.ngram",
            "microgpt.bpe",
        },
    ),
    (
        "foundations",
        {
            "microgpt",
            "microgpt.config",
            "microgpt.params",
            "microgpt.data",
            "microgpt.outputs",
            "microgpt.repository",
        },
    ),
]


def module_name(path):
    """microgpt.a.b for microgpt/a/b.py, and microgpt.a for a/__init__."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(name, node, is_package):
    """The package's modules that an import statement in name imports."""
    if isinstance(node, ast.Import):
        targets = [(alias.name, None) for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's own package up
            package = name.split(".") if is_package else name.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        targets = [(base, alias.name) for alias in node.names]
    found = set()
    for base, attribute in targets:
        # "from .x import y" imports the module x.y if there is one.
        full = f"{base}.{attribute}" if attribute else base
        for candidate in (full, base):
            if candidate in MODULES:
                found.add(candidate)
                break
    # Python initializes a module's own packages before the module, so
    # importing one of them adds no order, and is no arrow of the graph.
    return {f for f in found if not (name + ".").startswith(f + ".")}


def graph():
    """Module -> the set of the package's modules it imports."""
    edges = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges[name] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges[name] |= imported(name, node, is_package)
    return edges


def layer(name):
    """The index of name's layer in LAYERS, 0 at the top."""
    for i, (_, members) in enumerate(LAYERS):
        if name in members or any(
            m.endswith(".") and (name + ".").startswith(m) for m in members
        ):
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


def test_the_graph_is_read_from_the_sources():
    edges = graph()
    assert "microgpt.data" in edges["microgpt.train"]
    assert "microgpt.commands" in edges["microgpt.cli"]  # a local import
    assert "microgpt.bench.run" in edges["microgpt.bench.__main__"]


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_no_import_runs_back_up():
    upward = [
        f"{a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})"
        for a, targets in graph().items()
        for b in targets
        if layer(b) < layer(a)
    ]
    assert upward == []


def find_circle(edges):
    """A list of modules that import each other in a circle, or None."""
    state = {}  # name -> "open" while on the path, "done" after

    def visit(name, path):
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                circle = visit(target, path + [target])
                if circle:
                    return circle
        state[name] = "done"
        return None

    for name in sorted(edges):
        if name not in state:
            circle = visit(name, [name])
            if circle:
                return circle
    return None


def test_no_import_circle():
    circle = find_circle(graph())
    assert circle is None, "import circle: " + " -> ".join(circle)


def test_a_circle_would_be_found():
    # The check above can fail: one made-up arrow back closes a circle.
    edges = graph()
    edges["microgpt.data"] = edges["microgpt.data"] | {"microgpt.train"}
    circle = find_circle(edges)
    assert circle[0] == circle[-1]
    assert {"microgpt.data", "microgpt.train"} <= set(circle)
