"""The experiment that trains the GPT on growing budgets (chapter 8)."""

import pytest

from microgpt.experiments import gpt_vs_ngram, stored

pytestmark = pytest.mark.data


def test_the_quick_plan_is_the_chapters_own_run():
    result = gpt_vs_ngram.run(quick=True)
    (row,) = result["rows"]
    assert (row["batch_size"], row["num_steps"]) == (1, 1000)
    assert row["names_seen"] == 1000 and row["seeds"] == [42]
    assert result["train_names"] == 28830
    assert round(row["passes"], 4) == round(1000 / 28830, 4)
    # Chapter 8 prints this loss for its own 1,000-step run.
    assert round(row["held_out_loss"][0], 3) == 2.365


def test_the_stored_result_holds_the_full_plan():
    result = stored("gpt_vs_ngram")
    budgets = [(r["batch_size"], r["num_steps"]) for r in result["rows"]]
    assert budgets == [tuple(b) for b in gpt_vs_ngram.BUDGETS]
    for r in result["rows"]:
        assert r["seeds"] == list(gpt_vs_ngram.SEEDS)
        assert len(r["held_out_loss"]) == len(gpt_vs_ngram.SEEDS)
        assert all(1.5 < x < 3.5 for x in r["held_out_loss"])
    # The stored quick point reproduces the quick plan's run.
    first = result["rows"][0]["held_out_loss"][0]
    assert (
        abs(
            first - gpt_vs_ngram.run(quick=True)["rows"][0]["held_out_loss"][0]
        )
        < 1e-9
    )
