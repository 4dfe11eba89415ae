"""The gpt2_steps experiment: its steps, its statistics, its quick plan."""

import json
import math

import pytest

from microgpt.experiments import __main__ as experiments
from microgpt.experiments import gpt2_steps, stored

pytestmark = pytest.mark.torch


def test_each_step_switches_on_one_more_difference():
    plan = gpt2_steps.FULL
    first = gpt2_steps.config_of(plan, 65, "microgpt")
    last = gpt2_steps.config_of(plan, 65, "dropout")
    assert (first.norm, first.activation, first.bias) == ("rms", "relu", False)
    assert last == first.gpt2()  # the whole path ends at GPT-2's recipe
    changed = []
    before = first
    for name in plan["steps"][1:]:
        cfg = gpt2_steps.config_of(plan, 65, name)
        changed.append(
            sum(getattr(cfg, f) != getattr(before, f) for f in vars(cfg))
        )
        before = cfg
    # One difference per step; the norm's move and GPT-2's init are two
    # fields each.
    assert changed == [1, 2, 1, 1, 1, 2, 1]
    with pytest.raises(ValueError, match="no step named 'nope'"):
        gpt2_steps.config_of(plan, 65, "nope")


def test_paired_standard_error():
    mean, se = gpt2_steps.paired([1.0, 2.0, 3.0])
    assert mean == 2.0 and se == pytest.approx(1 / math.sqrt(3))
    assert math.isnan(gpt2_steps.paired([0.5])[1])


def test_the_quick_plan_reproduces_the_stored_first_point(tmp_path):
    out = tmp_path / "quick.json"
    assert experiments.main(["gpt2_steps", "--quick", "--out", str(out)]) == 0
    quick = json.loads(out.read_text())
    assert quick["plan"]["steps"] == ["microgpt"]
    assert quick["plan"]["seeds"] == [0]
    full = stored("gpt2_steps")
    assert full["plan"]["steps"] == gpt2_steps.FULL["steps"]
    again = quick["bpc"]["microgpt"][0]
    assert abs(again - full["bpc"]["microgpt"][0]) <= gpt2_steps.REPRODUCE_TOL
    assert 1.0 < again < math.log2(65)  # better than a uniform guess
