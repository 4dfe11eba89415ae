"""The ablations experiment: its statistics, and its quick plan reruns."""

import json
import math
import subprocess
import sys

import pytest

from microgpt.experiments import ablations, stored

pytestmark = pytest.mark.torch


def test_paired_is_the_mean_and_standard_error_of_differences():
    mean, se = ablations.paired([0.1, 0.3, 0.2, 0.4])
    assert mean == pytest.approx(0.25)
    # sample std with n - 1: sqrt(0.05 / 3); divided by sqrt(4)
    assert se == pytest.approx(math.sqrt(0.05 / 3) / 2)
    assert ablations.paired([0.5]) == (0.5, None)


def test_every_variant_names_a_config_and_switches():
    for variant in ablations.FULL["variants"]:
        cfg, switches = ablations.switches_of(variant)
        assert cfg.n_head == (1 if variant == "1 head" else 4)
        assert isinstance(switches, dict)
    with pytest.raises(KeyError):
        ablations.switches_of("no attention")


def test_the_stored_result_covers_the_full_plan():
    result = stored("ablations")
    plan = result["plan"]
    assert plan == json.loads(json.dumps(ablations.FULL))
    assert len(plan["seeds"]) >= 5
    for variant in plan["variants"]:
        assert len(result["losses"][variant]) == len(plan["seeds"])
        row = result["table"][variant]
        diffs = [
            a - b
            for a, b in zip(
                result["losses"][variant], result["losses"]["full"]
            )
        ]
        assert row["diff"] == pytest.approx(sum(diffs) / len(diffs))
    assert len(result["wte_seed0"]) == 27
    assert len(result["head_removed"]) == len(plan["seeds"])


def test_the_quick_plan_reproduces_the_stored_first_seed(tmp_path):
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.experiments",
            "ablations",
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    quick = json.loads(out.read_text())
    assert quick["plan"]["seeds"] == [0]
    want = stored("ablations")["losses"]["full"][0]
    assert quick["losses"]["full"][0] == pytest.approx(want, abs=1e-6)
    heads = stored("ablations")["head_removed"]["0"]
    assert quick["head_removed"]["0"] == pytest.approx(heads, abs=1e-6)
