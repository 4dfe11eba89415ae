"""The experiment that trains one GPT on characters and on BPE tokens."""

import pytest

from microgpt.experiments import stored, text_bpe

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def quick():
    return text_bpe.run(quick=True)


def test_the_quick_plan_is_the_smallest_point(quick):
    (point,) = quick["points"]
    assert (point["tokens"], point["num_steps"]) == ("chars", 100)
    assert point["vocab_size"] == 65 and point["chars_per_token"] == 1
    assert point["tokens_seen"] == 100 * 16 * 32
    assert quick["corpus"]["characters"] == 1115394
    assert quick["corpus"]["held_out_characters"] == 111539
    # Trained, but far from done: below the uniform guess, log2(65).
    assert 3.0 < point["val_bits_per_char"] < 6.02
    assert point["val_bits_per_char_at_init"] > 6


def test_the_stored_result_holds_the_full_plan(quick):
    result = stored("text_bpe")
    grid = [(p["tokens"], p["num_steps"]) for p in result["points"]]
    assert grid == [(t, s) for t in text_bpe.TOKENS for s in text_bpe.STEPS]
    assert result["corpus"] == quick["corpus"]
    for p in result["points"]:
        assert 1.5 < p["val_bits_per_char"] < 6.5
        assert p["tokens_seen"] == p["num_steps"] * 16 * 32
    # The stored smallest point is what the quick plan reproduces.
    first, again = result["points"][0], quick["points"][0]
    assert abs(first["val_bits_per_char"] - again["val_bits_per_char"]) < 1e-6
    # More merges, fewer tokens for the same text.
    cpt = {p["tokens"]: p["chars_per_token"] for p in result["points"]}
    assert cpt["chars"] == 1 < cpt[512] < cpt[1024]
