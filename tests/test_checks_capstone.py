"""The capstone's check passes the chapter's solution and fails mistakes.

The solution is the one committed in book/19_capstone.ipynb; each
mistake is that solution with one line changed, as a reader might.
"""

import json
import math
import random
from pathlib import Path

import pytest

from microgpt.course.checks import CheckFailed, capstone

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]


def solution_source():
    nb = json.loads(
        (ROOT / "book" / "19_capstone.ipynb").read_text(encoding="utf-8")
    )
    [cell] = [
        c
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex19-1-answer"
    ]
    return "".join(cell["source"])


def program(*changes):
    """The solution's namespace, with each (old, new) line changed."""
    source = solution_source()
    for old, new in changes:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    scope = {"__name__": "capstone_answer"}
    exec(compile(source, "<capstone answer>", "exec"), scope)
    return scope


def losses_only(scope):
    """The program without its names: a loss mistake fails before them."""
    return lambda docs, rng, steps, num_samples: scope["microgpt"](
        docs, rng, steps, 0
    )


def test_the_package_carries_the_recorded_run(expected_run):
    # One copy, the package's: the tests' fixture reads it too.
    run = expected_run
    assert (run["num_docs"], run["vocab_size"], run["num_params"]) == (
        32033,
        27,
        4192,
    )
    assert len(run["loss_per_step"]) == 1000 and len(run["samples"]) == 20
    assert capstone.recorded() == {
        "loss_per_step": [float(x) for x in run["loss_per_step"]],
        "samples": run["samples"],
    }


def test_the_solution_passes_losses_and_names(capsys):
    capstone.check_capstone(program()["microgpt"], steps=2)
    assert capsys.readouterr().out == (
        "✓ microgpt (2 of 1000 steps, and 20 names): matches the reference\n"
    )


def test_the_solution_is_the_original_bit_for_bit():
    losses, _ = program()["microgpt"](
        capstone.data.load_docs(), random.Random(42), 3, 0
    )
    assert losses == capstone.recorded()["loss_per_step"][:3]


def test_reordered_arithmetic_is_within_the_tolerance():
    # Division as a primitive of its own, not a product with a power,
    # and other ways to the same numbers: rounded differently.
    scope = program(
        (
            "        return self * other ** -1",
            "        other = other if isinstance(other, Value) else "
            "Value(other)\n"
            "        return Value(self.data / other.data, (self, other),\n"
            "                     (1 / other.data, "
            "-self.data / other.data ** 2))",
        ),
        (
            "    scale = (mean_square + 1e-5) ** -0.5",
            "    scale = 1 / (mean_square + 1e-5) ** 0.5",
        ),
        (
            "        p.data -= lr * m_hat / (v_hat ** 0.5 + EPS_ADAM)",
            "        p.data = p.data - lr * (m_hat / (math.sqrt(v_hat) "
            "+ EPS_ADAM))",
        ),
    )
    losses, _ = scope["microgpt"](
        capstone.data.load_docs(), random.Random(42), 3, 0
    )
    expected = capstone.recorded()["loss_per_step"][:3]
    drift = max(abs(a - b) / b for a, b in zip(losses, expected))
    assert 0 < drift < capstone.TOL / 1000


MISTAKES = [
    (
        (" / HEAD_DIM ** 0.5 for k in keys[i]]", " for k in keys[i]]"),
        1,
        1,
        "attention scores not divided by the square root of d_head",
    ),
    (
        (
            "    scale = (mean_square + 1e-5) ** -0.5",
            "    scale = mean_square ** -0.5",
        ),
        1,
        1,
        "rmsnorm without its epsilon",
    ),
    (
        (
            "    return [bos] + [chars.index(c) for c in name] + [bos]",
            "    return [chars.index(c) for c in name] + [bos]",
        ),
        1,
        1,
        "names without BOS at the start",
    ),
    (
        (
            "LEARNING_RATE * (1 - step / NUM_STEPS)",
            "LEARNING_RATE * (1 - (step + 1) / NUM_STEPS)",
        ),
        2,
        2,
        r"a learning-rate decay off by one step",
    ),
    (
        (
            "        m_hat = m[i] / (1 - BETA1 ** t)\n"
            "        v_hat = v[i] / (1 - BETA2 ** t)",
            "        m_hat, v_hat = m[i], v[i]",
        ),
        2,
        2,
        "Adam without bias correction",
    ),
]


@pytest.mark.parametrize(
    "change, steps, step, hint",
    MISTAKES,
    ids=[m[3].split(" (")[0][:30] for m in MISTAKES],
)
def test_a_typical_mistake_fails_naming_the_step_and_the_mistake(
    change, steps, step, hint
):
    with pytest.raises(CheckFailed) as info:
        capstone.check_capstone(losses_only(program(change)), steps=steps)
    message = str(info.value)
    assert message.startswith(
        f"chapter 19, exercise 1: loss at step {step}: got "
    )
    assert "(difference " in message and "tolerance 1e-09)" in message
    assert f"this is what {hint}" in message


def test_another_mistake_is_placed_by_its_first_step():
    # ReLU passing every gradient: the forward pass is right, the
    # gradients are not, and the first update shows it.
    scope = program(("(float(self.data > 0),)", "(1.0,)"))
    with pytest.raises(
        CheckFailed,
        match=r"loss at step [23]: got .*"
        r"the forward pass is right: look at the backward "
        r"pass, Adam and the learning rate$",
    ):
        capstone.check_capstone(losses_only(scope), steps=3)


def test_wrong_names_with_right_losses_point_to_sampling():
    scope = program(("TEMPERATURE = 0.5", "TEMPERATURE = 1.0"))
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 19, exercise 1: name "
        r"\d+: got '\w*', expected '\w*' \(the package's "
        r"after 1 steps\); the losses match",
    ):
        capstone.check_capstone(scope["microgpt"], steps=1)


def test_too_few_losses_are_refused():
    scope = program()
    with pytest.raises(CheckFailed, match="returned 1 losses for 2 steps"):
        capstone.check_capstone(
            lambda docs, rng, steps, n: scope["microgpt"](docs, rng, 1, 0),
            steps=2,
        )


def test_an_answer_on_the_package_model_is_refused():
    from microgpt.engine import Value

    scope = program()
    scope["Value"] = Value  # the reader imported the package's Value
    with pytest.raises(
        CheckFailed,
        match=r"your answer calls "
        r"microgpt\.engine\.Value\.__init__, which is what "
        r"the exercise asks you to write",
    ):
        capstone.check_capstone(losses_only(scope), steps=1)
    assert Value(2.0).data == 2.0  # and the package works again


@pytest.mark.slow
def test_the_solution_passes_the_full_run(capsys, collector_off):
    capstone.check_capstone(program()["microgpt"], steps=1000)
    assert "(1000 of 1000 steps, and 20 names)" in capsys.readouterr().out
    assert math.isfinite(capstone.TOL)
