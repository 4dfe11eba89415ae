"""A scalar autograd engine: a Value node and reverse-mode backward."""

import math


class Value:
    """One number in a computation graph, with the gradient it receives."""

    # __slots__ keeps each node small and quick to read: a training step
    # makes one node for every scalar operation it does.
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data  # the forward value
        self.grad = 0  # d(loss)/d(self), set by backward
        self._children = children  # the nodes this one was made from
        self._local_grads = local_grads  # d(self)/d(child), per child

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    # -- the primitives: each knows its local derivatives ----------------

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(
            self.data * other.data, (self, other), (other.data, self.data)
        )

    def __pow__(self, k):
        """Raise to a plain number k (not a Value); d/dx is k x^(k-1)."""
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        """The natural log, for x > 0; its derivative is 1 / x."""
        # A model that has diverged can give a probability of exactly 0,
        # whose log does not exist.
        if self.data <= 0:
            raise ArithmeticError(f"log of {self.data}")
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        """e to the x; its derivative is e to the x again."""
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        """max(0, x); its derivative is 1 where x > 0, else 0."""
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    # -- the rest is composed from the primitives ------------------------
    # The exact composition matters: a - b is a + (-1 * b) and a / b is
    # a * b**-1, so the floats match the original microgpt bit for bit.

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    # -- reverse mode -----------------------------------------------------

    def backward(self):
        """Add d(self)/d(node) to the .grad of every node under self.

        Each node passes its grad, times each local derivative, down to
        its children once every node above it has passed its share down:
        the chain rule, summed over every path. Grads start at 0, so a
        fresh graph ends with each node's derivative.
        """
        self.grad = 1
        for node in reversed(topological_order(self)):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad


def topological_order(root):
    """Return every node under root, each after all of its children."""
    # The same post-order as the textbook recursive DFS, but with an
    # explicit stack: deeper models would overflow Python's recursion limit,
    # and the order must match exactly, since it fixes the order in which
    # gradients are summed (and so their last bits).
    order, visited = [], {root}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
