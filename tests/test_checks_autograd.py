"""The autograd chapter's exercise checks pass right answers, fail wrong."""

import math

import pytest

from microgpt.course.checks import CheckFailed, autograd
from microgpt.engine import Value

pytestmark = pytest.mark.autograd


def tanh(v):
    t = math.tanh(v.data)
    return Value(t, (v,), (1 - t * t,))


def directional_derivative(f, xs, v, h=1e-5):
    up = [x + h * d for x, d in zip(xs, v)]
    down = [x - h * d for x, d in zip(xs, v)]
    return (f(up) - f(down)) / (2 * h)


def topo_sort(root):
    """Post-order DFS with an explicit stack of (node, children left)."""
    order, seen = [], {root}
    stack = [(root, list(root._children))]
    while stack:
        node, todo = stack[-1]
        if todo:
            child = todo.pop(0)
            if child not in seen:
                seen.add(child)
                stack.append((child, list(child._children)))
        else:
            stack.pop()
            order.append(node)
    return order


def backward_order(root):
    """Parents before children, by counting each node's parents."""
    waiting, stack, seen = {}, [root], {root}
    while stack:
        node = stack.pop()
        for child in node._children:
            waiting[child] = waiting.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    order, ready = [], [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for child in node._children:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return order


def recursive_topo_sort(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for child in node._children:
                visit(child)
            order.append(node)

    visit(root)
    return order


def test_tanh_passes_the_reference(capsys):
    autograd.check_tanh(tanh)
    assert "✓ tanh" in capsys.readouterr().out


def test_tanh_with_wrong_local_gradient_fails_on_gradient():
    def wrong(v):
        t = math.tanh(v.data)
        return Value(t, (v,), (1 - t,))

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 3, exercise 2: "
        r"gradient of tanh at -2.5: got .*difference.*; this "
        r"is what a local gradient of 1 - tanh\(x\), not "
        r"1 - tanh\(x\)\*\*2 gives$",
    ):
        autograd.check_tanh(wrong)


def test_tanh_without_children_fails_on_gradient():
    with pytest.raises(
        CheckFailed,
        match=r"gradient of tanh at -2.5: got 0"
        r".*; this is what a result without v as its child "
        r"\(no gradient reaches v\) gives$",
    ):
        autograd.check_tanh(lambda v: Value(math.tanh(v.data)))


def test_tanh_must_return_a_value():
    with pytest.raises(CheckFailed, match=r"expected a Value, got -0.98"):
        autograd.check_tanh(lambda v: math.tanh(v.data))


def test_directional_passes_central_differences(capsys):
    autograd.check_directional(directional_derivative)
    assert "✓ directional_derivative" in capsys.readouterr().out


def test_directional_through_the_partial_derivatives_passes(capsys):
    def by_coordinates(f, xs, v, h=1e-5):
        total = 0.0
        for i, d in enumerate(v):
            up, down = list(xs), list(xs)
            up[i] += h
            down[i] -= h
            total += d * (f(up) - f(down)) / (2 * h)
        return total

    autograd.check_directional(by_coordinates)
    assert "✓ directional_derivative" in capsys.readouterr().out


def test_directional_one_sided_names_the_mistake():
    def one_sided(f, xs, v, h=1e-5):
        return (f([x + h * d for x, d in zip(xs, v)]) - f(xs)) / h

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 3, exercise 3: "
        r"derivative of x0 \* x1 \+ x2\*\*3 at \[1.5, -2.0, "
        r"0.5\] along \[.*\]: got .*; this is what a "
        r"one-sided difference \(f\(x \+ h v\) - f\(x\)\) / "
        r"h gives$",
    ):
        autograd.check_directional(one_sided)


def test_directional_without_the_factor_2_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"this is what dividing by h, not "
        r"2 h gives$",
    ):
        autograd.check_directional(
            lambda f, xs, v: 2 * directional_derivative(f, xs, v)
        )


def test_directional_that_ignores_the_direction_fails():
    with pytest.raises(CheckFailed, match=r"derivative of x0 \* x1"):
        autograd.check_directional(
            lambda f, xs, v: directional_derivative(f, xs, [1.0] * len(v))
        )


def test_backward_order_passes_counting_parents(capsys):
    autograd.check_backward_order(backward_order)
    assert "✓ backward_order" in capsys.readouterr().out


def test_backward_order_passes_the_reversed_depth_first_order(capsys):
    autograd.check_backward_order(lambda root: topo_sort(root)[::-1])
    assert "✓ backward_order" in capsys.readouterr().out


def test_backward_order_recursive_fails_on_the_deep_chain():
    with pytest.raises(
        CheckFailed,
        match=r"chain of 10000 additions: hit "
        r"Python's recursion limit",
    ):
        autograd.check_backward_order(
            lambda root: recursive_topo_sort(root)[::-1]
        )


def test_backward_order_children_first_is_named():
    # A topological order, children first: backward needs its reverse.
    with pytest.raises(
        CheckFailed,
        match=r"comes after its child .*that is a topological order, "
        r"and backward needs its reverse$",
    ):
        autograd.check_backward_order(topo_sort)


def test_backward_order_without_dedup_fails_on_repeats():
    def no_dedup(root):
        order, stack = [], [root]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(node._children)
        return order

    with pytest.raises(CheckFailed, match=r"also appears at position"):
        autograd.check_backward_order(no_dedup)


def test_backward_order_taking_off_once_per_parent_is_named():
    # Counts a child once per appearance, but takes one off once per
    # parent: in a * a, a's count stays above zero and a is never output.
    def once_per_parent(root):
        waiting, stack, seen = {}, [root], {root}
        while stack:
            node = stack.pop()
            for child in node._children:
                waiting[child] = waiting.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        order, ready = [], [root]
        while ready:
            node = ready.pop()
            order.append(node)
            for child in set(node._children):
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return order

    with pytest.raises(
        CheckFailed,
        match=r"a graph with a \* a in it: got .* missing\); .*count "
        r"a child once per appearance",
    ):
        autograd.check_backward_order(once_per_parent)


def test_backward_order_missing_leaves_fails_on_count():
    def no_leaves(root):
        return [n for n in backward_order(root) if n._children]

    with pytest.raises(CheckFailed, match=r"missing"):
        autograd.check_backward_order(no_leaves)


def test_backward_order_shuffled_fails_without_the_topological_hint():
    def shuffled(root):
        order = backward_order(root)
        return order[1:] + order[:1]  # the root last

    with pytest.raises(CheckFailed, match=r"comes after its child") as e:
        autograd.check_backward_order(shuffled)
    assert "topological order" not in str(e.value)


def test_overwritten_grad_passes_the_measured_number(capsys):
    autograd.check_overwritten_grad(lambda: -6.0)
    assert "✓ dL/da with = instead of +=" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (-2, "that is the right gradient"),
        (4, "that is the contribution through L = d \\* a"),
        (6, "is too large"),
    ],
)
def test_overwritten_grad_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 3, exercise 1: "
        r"dL/da with = instead of \+=: .*" + hint,
    ):
        autograd.check_overwritten_grad(lambda: wrong)
