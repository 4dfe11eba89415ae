"""The benchmark's instruments: inputs, the timer, op counts."""

import pytest

from microgpt.bench import tools as bench_tools
from microgpt.data import Tokenizer

pytestmark = pytest.mark.efficiency


def test_stream_docs_fill_the_context(docs):
    tok = Tokenizer.from_docs(docs)
    out = bench_tools.stream_docs(docs, tok, 17, 5)
    assert len(out) == 5 and all(len(d) == 17 for d in out)
    stream = [i for d in out for i in d]
    # the names in order, each after its BOS, as training frames them
    expected = [i for name in docs[:40] for i in tok.frame(name)[:-1]]
    assert stream == expected[: len(stream)]


def test_time_steps_takes_turns_and_counts():
    calls = []
    cases = {
        "a": (lambda x: calls.append(("a", x)), [1, 2], 3),
        "b": (lambda x: calls.append(("b", x)), [7], 2),
    }
    timed = bench_tools.time_steps(cases, repeat_s=0.0)
    # two warm-up steps each (the second one estimates the plan), then
    # a b a b a: one step per repeat at 0 s
    assert [k for k, _ in calls] == [
        "a",
        "a",
        "b",
        "b",
        "a",
        "b",
        "a",
        "b",
        "a",
    ]
    # and each repeat goes on through the inputs where the last stopped
    assert [x for k, x in calls if k == "a"] == [1, 1, 1, 2, 1]
    assert timed["a"][1:] == (1, 3) and timed["b"][1:] == (1, 2)
    assert all(s >= 0 for s, _, _ in timed.values())


def test_op_counts_separate_views_from_compute():
    ops = [("mm", False), ("view", True), ("add", False), ("t", True)]
    assert bench_tools.op_counts(ops) == {"ops": 4, "compute_ops": 2}
