"""The Value engine: every operation against finite differences."""

import math
import random

import pytest

from microgpt.engine import Value, topological_order

pytestmark = pytest.mark.autograd

H = 1e-6  # central differences: error O(H**2), round-off O(1e-16 / H)


def exp(v):
    return v.exp() if isinstance(v, Value) else math.exp(v)


def log(v):
    return v.log() if isinstance(v, Value) else math.log(v)


def relu(v):
    return v.relu() if isinstance(v, Value) else max(0.0, v)


# name -> function of two numbers, Values or floats, at inputs where it is
# smooth (b > 0 and a != 0).
OPS = {
    "add": lambda a, b: a + b,
    "radd": lambda a, b: 2.5 + a,
    "sub": lambda a, b: a - b,
    "rsub": lambda a, b: 2.5 - b,
    "mul": lambda a, b: a * b,
    "rmul": lambda a, b: 3.0 * a,
    "truediv": lambda a, b: a / b,
    "rtruediv": lambda a, b: 2.0 / b,
    "neg": lambda a, b: -a,
    "pow": lambda a, b: a**3,
    "pow_neg_half": lambda a, b: b**-0.5,
    "exp": lambda a, b: exp(a),
    "log": lambda a, b: log(b),
    "relu": lambda a, b: relu(a),
    "composite": lambda a, b: (
        exp(a * b + b**2) / (a - 3.0 * b) + log(a * a) * relu(b - a)
    ),
}


def grads_by_autograd(f, x, y):
    a, b = Value(x), Value(y)
    out = f(a, b)
    out.backward()
    return out.data, a.grad, b.grad


def grads_by_differences(f, x, y):
    dx = (f(x + H, y) - f(x - H, y)) / (2 * H)
    dy = (f(x, y + H) - f(x, y - H)) / (2 * H)
    return f(x, y), dx, dy


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-1.1, 0.4), (2.0, 2.5)])
def test_each_operation_matches_finite_differences(op, x, y):
    f = OPS[op]
    value, da, db = grads_by_autograd(f, x, y)
    ref_value, ref_da, ref_db = grads_by_differences(f, x, y)
    assert value == pytest.approx(ref_value, rel=1e-12)
    assert da == pytest.approx(ref_da, rel=1e-6, abs=1e-8)
    assert db == pytest.approx(ref_db, rel=1e-6, abs=1e-8)


def test_a_reused_node_sums_its_gradients():
    a = Value(3.0)
    b = a * a + a  # a used three times
    b.backward()
    assert a.grad == 2 * 3.0 + 1


def test_relu_passes_no_gradient_below_zero():
    a = Value(-2.0)
    a.relu().backward()
    assert a.grad == 0


def test_non_values_are_wrapped():
    out = 2 * Value(3.0) + 1
    assert isinstance(out, Value) and out.data == 7.0


def build_graph(leaves, seed, n_ops=40):
    """A random DAG with shared subexpressions over leaves (Values or
    floats); the same seed builds the same graph for both."""
    rng = random.Random(seed)
    nodes = list(leaves)
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes)
        nodes.append(rng.choice([a + b, a * b, a * 0.5 + b]))
    return sum(nodes[len(leaves) :])


LEAVES = [0.9, 1.2, 0.6, 1.4]


def recursive_order(root):
    """The textbook recursive topological sort."""
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for child in v._children:
                visit(child)
            order.append(v)

    visit(root)
    return order


def test_topological_order_puts_children_first_and_each_node_once():
    root = build_graph([Value(x) for x in LEAVES], seed=0)
    order = topological_order(root)
    assert order[-1] is root
    assert len(order) == len(set(map(id, order)))
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for child in v._children:
            assert position[id(child)] < position[id(v)]


def test_topological_order_is_the_recursive_one():
    # The order fixes the order in which gradients are summed, so it
    # must be exactly the recursive depth-first post-order.
    for seed in range(5):
        root = build_graph([Value(x) for x in LEAVES], seed)
        assert topological_order(root) == recursive_order(root)


@pytest.mark.parametrize("seed", range(3))
def test_a_random_graph_matches_finite_differences(seed):
    leaves = [Value(x) for x in LEAVES]
    build_graph(leaves, seed).backward()
    for i, leaf in enumerate(leaves):
        up, down = list(LEAVES), list(LEAVES)
        up[i] += H
        down[i] -= H
        fd = (build_graph(up, seed) - build_graph(down, seed)) / (2 * H)
        assert leaf.grad == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_a_deep_graph_does_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_log_of_zero_is_an_arithmetic_error():
    # A diverged model can give a probability of 0; the error lets
    # training report the divergence.
    with pytest.raises(ArithmeticError, match="log of 0.0"):
        Value(0.0).log()
