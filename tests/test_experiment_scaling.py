"""The scaling experiment: its fits, its frontier, its quick plan."""

import json
import math
import subprocess
import sys

import pytest

from microgpt.experiments import scaling, stored

pytestmark = pytest.mark.torch


def test_fit_line_recovers_a_line():
    slope, icpt = scaling.fit_line([0, 1, 2, 3], [1, 3, 5, 7])
    assert (slope, icpt) == pytest.approx((2, 1))


def test_fit_power_law_recovers_exact_points():
    xs = [100 * 2**k for k in range(8)]
    ys = [1.5 + 12 * x**-0.4 for x in xs]
    e, a, alpha = scaling.fit_power_law(xs, ys, steps=3000)
    assert e == pytest.approx(1.5, abs=2e-3)
    assert alpha == pytest.approx(0.4, rel=0.02)
    assert a == pytest.approx(12, rel=0.05)


def test_without_a_floor_the_fit_is_the_log_log_line():
    xs = [10, 100, 1000, 10000]
    ys = [3 * x**-0.25 for x in xs]
    e, a, alpha = scaling.fit_power_law(xs, ys)
    assert e == 0 and alpha == pytest.approx(0.25) and a == pytest.approx(3)


def test_frontier_takes_the_best_run_within_each_budget():
    runs = [
        {"compute": 10, "loss": 3.0},
        {"compute": 100, "loss": 2.5},
        {"compute": 50, "loss": 2.0},
    ]
    got = scaling.frontier(runs, [5, 20, 60, 200])
    assert [r["budget"] for r in got] == [20, 60, 200]
    assert [r["loss"] for r in got] == [3.0, 2.0, 2.0]


def test_tokens_seen_counts_the_predictions_of_each_batch():
    import random

    from microgpt.config import ModelConfig, TrainConfig

    docs = ["ab", "abcdefghijklmnopqrstu", "c"]
    predictions = {"ab": 3, "abcdefghijklmnopqrstu": 16, "c": 2}
    # Two steps of two names cycle through the three shuffled names and
    # take the first one again.
    tcfg = TrainConfig(num_steps=2, batch_size=2, seed=0)
    shuffled = list(docs)
    random.Random(0).shuffle(shuffled)
    want = sum(predictions.values()) + predictions[shuffled[0]]
    assert scaling.tokens_seen(docs, ModelConfig(), tcfg) == want


def test_the_stored_result_covers_the_grid():
    result = stored("scaling")
    plan = result["plan"]
    assert plan == json.loads(json.dumps(scaling.FULL))
    want = len(plan["n_layer"]) * len(plan["n_embd"]) * len(plan["num_steps"])
    assert len(result["runs"]) == want
    for r in result["runs"]:
        assert r["compute"] == 6 * r["params"] * r["tokens"]
        assert math.isfinite(r["loss"])


def test_the_quick_plan_reproduces_the_smallest_stored_point(tmp_path):
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.experiments",
            "scaling",
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (quick,) = json.loads(out.read_text())["runs"]
    first = stored("scaling")["runs"][0]
    for key in ("n_layer", "n_embd", "steps", "params", "tokens"):
        assert quick[key] == first[key]
    assert quick["loss"] == pytest.approx(first["loss"], abs=1e-3)
