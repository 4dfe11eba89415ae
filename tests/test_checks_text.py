"""The running-text chapter's exercise checks pass right answers, fail
wrong ones, and name the typical mistakes."""

import math

import pytest

from microgpt.course.checks import CheckFailed, text
from microgpt.course.checks.questions import find_key, load_key

pytestmark = pytest.mark.data


def merge_step(ids, new, tie="smallest", right=False):
    """Right by default; tie="first" or right=True give the mistakes."""
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    top = max(counts.values())
    ties = [p for p, c in counts.items() if c == top]
    pair = min(ties) if tie == "smallest" else ties[0]
    seq = ids[::-1] if right else ids
    find = pair[::-1] if right else pair
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == find:
            out.append(new)
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return pair, out[::-1] if right else out


def test_a_right_merge_step_passes(capsys):
    text.check_merge_step(merge_step)
    assert "✓ merge_step" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"tie": "first"}, "breaking a tie by the pair seen first"),
        ({"right": True}, "merging from the right"),
    ],
)
def test_a_merge_step_mistake_is_named(kwargs, named):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 16, exercise 1: "
        r"merge_step\(.*" + named,
    ):
        text.check_merge_step(lambda ids, new: merge_step(ids, new, **kwargs))


def test_a_merge_step_that_returns_nothing_fails():
    with pytest.raises(CheckFailed, match="should return"):
        text.check_merge_step(lambda ids, new: None)


def test_a_merge_step_may_not_call_the_package():
    from microgpt import bpe

    def lazy(ids, new):
        return bpe.train(bytes(ids).decode("latin-1"), new + 1)

    with pytest.raises(CheckFailed, match="calls microgpt.bpe.train"):
        text.check_merge_step(lazy)


def bpc(losses, pieces):
    return sum(losses) / (math.log(2) * sum(len(p) for p in pieces))


def test_right_bits_per_char_pass(capsys):
    text.check_bits_per_char(bpc)
    assert "✓ bits_per_char" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, named",
    [
        (
            lambda ls, ps: sum(ls) / sum(len(p) for p in ps),
            "leaving the loss in nats",
        ),
        (
            lambda ls, ps: sum(ls) / (math.log(2) * len(ps)),
            "dividing by the number of tokens",
        ),
    ],
)
def test_bits_per_char_mistakes_are_named(wrong, named):
    with pytest.raises(CheckFailed, match=named):
        text.check_bits_per_char(wrong)


def test_the_embedding_share_question(capsys):
    share = text._share(1024)
    assert 0.5 < share < 1  # most of this small model is its vocabulary
    text.check_embedding_share(lambda: share)
    assert "✓ share" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="counts one of the two tables"):
        text.check_embedding_share(lambda: share / 2)
    with pytest.raises(CheckFailed, match="65 characters"):
        text.check_embedding_share(lambda: text._share(65))


def test_the_embedding_share_mistakes_are_named():
    from microgpt.config import ModelConfig
    from microgpt.params import num_params

    cfg = ModelConfig(vocab_size=1024, **text.MODEL)
    N, table = num_params(cfg), 1024 * cfg.n_embd
    share = text._share(1024)
    no_wpe = 2 * table / (N - cfg.block_size * cfg.n_embd)
    # Leaving wpe out is close to the truth: the tolerance must tell them
    # apart.
    assert abs(no_wpe - share) > 0.002
    for wrong, named in [
        (no_wpe, "position table wpe"),
        (table / (N - table), "rest of the model"),
        (100 * share, "percentage"),
        (0.2, "count it from the shapes"),
    ]:
        with pytest.raises(CheckFailed, match=named):
            text.check_embedding_share(lambda: wrong)


def test_the_choice_question(capsys):
    text.check_why_bits_per_char(lambda: "a")
    assert "(a) is right" in capsys.readouterr().out
    assert load_key(find_key())["text-per-token"]["answer"] == "a"
    for wrong in ("b", "c"):
        with pytest.raises(CheckFailed, match="Comparing like for like"):
            text.check_why_bits_per_char(lambda: wrong)
