"""Checks for the autograd chapter's exercises."""

import math
import random

from ...engine import Value, topological_order
from . import CheckFailed, check_close, passed
from .exercise import exercise
from .questions import number


def _reference_overwritten_grad():
    """dL/da from a backward that writes `=` where it should add `+=`."""
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    loss = (a * b + c) * a
    loss.grad = 1
    for node in reversed(topological_order(loss)):
        for child, local in zip(node._children, node._local_grads):
            child.grad = local * node.grad
    return a.grad


@exercise(1, points=1, forbids=(_reference_overwritten_grad,))
def check_overwritten_grad(broken_grad):
    """What dL/da comes out as when backward overwrites instead of adds."""
    truth = _reference_overwritten_grad()
    number(
        "dL/da with = instead of +=",
        broken_grad,
        truth,
        1e-9,
        [
            (
                -2.0,
                "that is the right gradient, which += gives; change "
                "+= to = in backward and run it again",
            ),
            (
                4.0,
                "that is the contribution through L = d * a; in "
                "reverse topological order, which edge into a comes last? "
                "(see 'Topological order and backward')",
            ),
        ],
    )


def _as_value(what, out):
    """Raise CheckFailed unless out is a Value."""
    if not isinstance(out, Value):
        raise CheckFailed(f"{what}: expected a Value, got {out!r}")
    return out


@exercise(2, points=2)
def check_tanh(tanh):
    """tanh(v) must return a Value with the right data and local grad."""
    for x in (-2.5, -0.3, 0.0, 0.7, 3.1):
        v = Value(x)
        out = _as_value(f"tanh(Value({x}))", tanh(v))
        check_close(
            f"tanh(Value({x})).data", out.data, math.tanh(x), tol=1e-12
        )
        out.backward()
        t = math.tanh(x)
        check_close(
            f"gradient of tanh at {x}",
            v.grad,
            1 - t * t,
            tol=1e-12,
            mistakes={
                "a local gradient of 1 - tanh(x), not 1 - tanh(x)**2": 1 - t,
                "a result without v as its child (no gradient reaches v)": 0.0,
            },
        )
    # Inside a bigger graph: the chain rule, and a node used twice.
    v = Value(0.4)
    y = _as_value("tanh(v * v)", tanh(v * v))
    (y + y).backward()
    t = math.tanh(0.16)
    check_close(
        "gradient of tanh(v*v) + tanh(v*v) at 0.4",
        v.grad,
        2 * (1 - t * t) * 2 * 0.4,
        tol=1e-12,
    )
    passed("tanh")


def _test_functions():
    """(name, f, point) triples; f maps a list of Values or floats."""
    return [
        (
            "x0 * x1 + x2**3",
            lambda x: x[0] * x[1] + x[2] ** 3,
            [1.5, -2.0, 0.5],
        ),
        (
            "exp(x0) / (1 + x1 * x1)",
            lambda x: (
                (x[0].exp() if isinstance(x[0], Value) else math.exp(x[0]))
                / (1 + x[1] * x[1])
            ),
            [0.3, 0.8],
        ),
        (
            "x0 * x0 * x0 - 4 * x0 + 1 / x1",
            lambda x: x[0] * x[0] * x[0] - 4 * x[0] + 1 / x[1],
            [1.25, -0.6],
        ),
    ]


def _mistaken_directional(f, point, v):
    """What the estimate gives one-sided, or without the factor 2."""
    h = 1e-5  # the exercise's default step
    up = [x + h * d for x, d in zip(point, v)]
    down = [x - h * d for x, d in zip(point, v)]
    return {
        "a one-sided difference (f(x + h v) - f(x)) / h": (f(up) - f(point))
        / h,
        "dividing by h, not 2 h": (f(up) - f(down)) / h,
    }


@exercise(3, points=2)
def check_directional(directional_derivative, seed=0):
    """directional_derivative(f, xs, v) -> the slope of f along v."""
    rng = random.Random(seed)
    for name, f, point in _test_functions():
        xs = [Value(x) for x in point]
        f(xs).backward()
        for trial in range(2):
            v = [rng.gauss(0, 1) for _ in point]
            exact = sum(x.grad * d for x, d in zip(xs, v))
            got = directional_derivative(f, list(point), list(v))
            # Central differences are accurate to about 1e-8 here;
            # one-sided ones only to about 1e-5, and fail this tolerance.
            check_close(
                f"derivative of {name} at {point} along "
                f"{[round(d, 3) for d in v]}",
                got,
                exact,
                tol=1e-6,
                mistakes=_mistaken_directional(f, point, v),
            )
    passed("directional_derivative")


def _random_graph(rng, n_leaves=4, n_ops=25):
    """A seeded random expression with shared subexpressions."""
    nodes = [Value(rng.uniform(0.5, 2.0)) for _ in range(n_leaves)]
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice("+*e")
        node = a + b if op == "+" else a * b if op == "*" else (a * 0.1).exp()
        nodes.append(node)
    root = nodes[-1]
    for node in nodes[-6:-1]:
        root = root + node
    return root


def _check_backward_order(where, got, expected):
    """Raise CheckFailed unless got lists expected's nodes, each before
    all of its children (the order that backward walks)."""
    position = {}
    for i, node in enumerate(got):
        if id(node) in position:
            raise CheckFailed(
                f"{where}: the node at position {i} "
                f"(data={node.data:.6g}) also appears at "
                f"position {position[id(node)]}"
            )
        position[id(node)] = i
    missing = [n for n in expected if id(n) not in position]
    if missing or len(got) != len(expected):
        raise CheckFailed(
            f"{where}: got {len(got)} nodes, expected "
            f"{len(expected)} ({len(missing)} missing); a node whose "
            f"count of parents never reaches zero is never output: count "
            f"a child once per appearance in _children (a * a lists a "
            f"twice) and take one off per appearance too"
        )
    late = [
        (i, node, position[id(child)], child)
        for i, node in enumerate(got)
        for child in node._children
        if position[id(child)] < i
    ]
    if late:
        i, node, j, child = late[0]
        children_first = all(
            position[id(c)] < k for k, n in enumerate(got) for c in n._children
        )
        hint = (
            "; every node comes after its children: that is a "
            "topological order, and backward needs its reverse"
            if children_first
            else ""
        )
        raise CheckFailed(
            f"{where}: the node at position {i} "
            f"(data={node.data:.6g}) comes after its child at "
            f"position {j} (data={child.data:.6g}){hint}"
        )


def _square_graph():
    """A graph in which one node is both children of a product."""
    a, b = Value(1.5), Value(0.5)
    s = a * a  # a appears twice among s's children
    return (s + b) * s + a


@exercise(4, points=3, forbids=(topological_order,))
def check_backward_order(backward_order, seed=0, depth=10_000):
    """backward_order(root) -> every node under root, each before its
    children.

    It must not recurse: the last graph is a chain deeper than Python's
    recursion limit.
    """
    rng = random.Random(seed)
    graphs = [("a graph with a * a in it", _square_graph())]
    graphs += [(f"random graph #{k}", _random_graph(rng)) for k in range(5)]
    for where, root in graphs:
        expected = topological_order(root)  # before the solution runs
        _check_backward_order(where, list(backward_order(root)), expected)
    chain = Value(0.0)
    for _ in range(depth):
        chain = chain + 1.0
    where = f"a chain of {depth} additions"
    expected = topological_order(chain)
    try:
        got = list(backward_order(chain))
    except RecursionError:
        raise CheckFailed(
            f"{where}: hit Python's recursion limit; walk the "
            f"graph with an explicit stack"
        ) from None
    _check_backward_order(where, got, expected)
    passed("backward_order")
