"""The PyTorch chapter's checks pass the reference and catch mistakes."""

import pytest
import torch  # pinned in requirements.txt: a broken install must fail
import torch.nn.functional as F

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import pytorch as checks

pytestmark = pytest.mark.torch


def good_mask(tq, tk):
    return torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)


def good_cross_entropy(logits, targets):
    top = logits.max(dim=-1, keepdim=True).values.detach()
    lse = (logits - top).exp().sum(-1).log() + top.squeeze(-1)
    return (lse - logits.gather(-1, targets[:, None]).squeeze(-1)).mean()


def good_attention(q, k, v, cfg, mask=good_mask, scale=0.5, dim=-1):
    tq, tk, hd = q.shape[-2], k.shape[-2], cfg.head_dim

    def heads(x):
        return x.unflatten(-1, (cfg.n_head, hd)).transpose(-3, -2)

    q, k, v = heads(q), heads(k), heads(v)
    scores = q @ k.transpose(-2, -1) / hd**scale
    if mask is not None:
        scores = scores.masked_fill(~mask(tq, tk), float("-inf"))
    out = torch.softmax(scores, dim=dim) @ v
    return out.transpose(-3, -2).flatten(-2)


def test_checks_pass_the_reference(capsys):
    checks.check_causal_mask(good_mask)
    checks.check_cross_entropy(good_cross_entropy)
    checks.check_attention(good_attention)
    assert capsys.readouterr().out.count("✓") == 3


def test_mask_aligned_to_the_first_query_fails_with_a_position():
    # tril() is right for a square, wrong when the queries are the last
    # few positions of a longer cache.
    def square_only(tq, tk):
        return torch.ones(tq, tk, dtype=torch.bool).tril()

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 12, exercise 2: "
        r"causal_mask\(1, 6\) at query 0, key 1: got False, "
        r"expected True; query 0 sits at position 5 of 6, so "
        r"key 1 must be visible \(5 wrong entries in all\); "
        r"this is what a square mask \(tril\(\), right only "
        r"when tq = tk\) gives: the queries are the last tq "
        r"of tk positions$",
    ):
        checks.check_causal_mask(square_only)


def test_mask_inverted_fails():
    with pytest.raises(
        CheckFailed,
        match=r"causal_mask\(1, 1\) at query 0, "
        r"key 0: got False, expected True"
        r".*; this is what True for the "
        r"hidden keys gives",
    ):
        checks.check_causal_mask(lambda tq, tk: ~good_mask(tq, tk))


def test_mask_of_floats_fails_on_dtype():
    with pytest.raises(CheckFailed, match="expected dtype torch.bool"):
        checks.check_causal_mask(lambda tq, tk: good_mask(tq, tk).double())


def test_mask_of_wrong_shape_fails():
    # keys by keys, as if every position were a query
    with pytest.raises(
        CheckFailed,
        match=r"causal_mask\(1, 6\): expected "
        r"shape \(1, 6\), got \(6, 6\)",
    ):
        checks.check_causal_mask(lambda tq, tk: good_mask(tk, tk))


def test_unstable_cross_entropy_fails_on_large_logits():
    def naive(logits, targets):
        p = logits.exp() / logits.exp().sum(-1, keepdim=True)
        return -p[range(len(targets)), targets].log().mean()

    # The small cases pass; exp() overflows only at scale 800.
    with pytest.raises(
        CheckFailed,
        match=r"logits of scale 800: the loss: "
        r"got nan",
    ):
        checks.check_cross_entropy(naive)


def test_cross_entropy_summed_not_averaged_fails():
    def summed(logits, targets):
        return good_cross_entropy(logits, targets) * len(targets)

    with pytest.raises(
        CheckFailed,
        match=r"7 positions.*the loss: got .* "
        r"\(difference.*; this is what "
        r"summing over the positions "
        r"instead of averaging gives$",
    ):
        checks.check_cross_entropy(summed)


def test_cross_entropy_with_the_wrong_sign_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 12, exercise 4: "
        r"cross_entropy on 1 positions, .*: the loss: got -.*"
        r"; this is what a wrong sign \(log p, not -log p\) "
        r"gives$",
    ):
        checks.check_cross_entropy(lambda lg, t: -good_cross_entropy(lg, t))


def test_cross_entropy_with_a_wrong_gradient_names_the_entry():
    class Halved(torch.autograd.Function):
        # the right loss, with half its gradient
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g / 2

    with pytest.raises(
        CheckFailed,
        match=r"d loss / d logits at position 0,"
        r" logit 0: got",
    ):
        checks.check_cross_entropy(
            lambda lg, t: good_cross_entropy(Halved.apply(lg), t)
        )


def test_cross_entropy_outside_autograd_fails():
    def detached(logits, targets):
        return good_cross_entropy(logits.detach(), targets)

    with pytest.raises(CheckFailed, match="not connected to the logits"):
        checks.check_cross_entropy(detached)


def test_cross_entropy_returning_a_float_fails():
    with pytest.raises(
        CheckFailed, match="expected a torch tensor, got float"
    ):
        checks.check_cross_entropy(
            lambda lg, t: good_cross_entropy(lg, t).item()
        )


def test_attention_without_mask_fails():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 12, exercise 5: "
        r"attention with 5 queries over 5 keys, n_head=4, "
        r"batch \(\) at query 0, dimension \d+: got .*; this "
        r"is what the mask not applied gives$",
    ):
        checks.check_attention(
            lambda q, k, v, cfg: good_attention(q, k, v, cfg, mask=None)
        )


@pytest.mark.parametrize(
    "change, mistake",
    [
        ({"scale": 0}, "leaving the scores unscaled"),
        (
            {"scale": 1},
            r"a missing square root in the scale \(dividing by d, "
            r"not sqrt\(d\)\)",
        ),
        (
            {"dim": -2},
            r"a softmax over the wrong axis \(over the queries, not "
            r"the keys\)",
        ),
    ],
)
def test_attention_mistakes_are_named(change, mistake):
    with pytest.raises(
        CheckFailed,
        match=rf"5 queries over 5 keys, n_head=4"
        rf", batch \(\) at query \d, "
        rf"dimension \d+: .*; this is what "
        rf"{mistake} gives$",
    ):
        checks.check_attention(
            lambda q, k, v, cfg: good_attention(q, k, v, cfg, **change)
        )


def test_attention_as_one_head_fails():
    def one_head(q, k, v, cfg):
        return good_attention(q, k, v, type(cfg)(n_embd=cfg.n_embd, n_head=1))

    with pytest.raises(CheckFailed, match="attention with 5 queries"):
        checks.check_attention(one_head)


def test_attention_on_a_batch_names_the_document():
    def second_doc_wrong(q, k, v, cfg):
        out = good_attention(q, k, v, cfg)
        if out.dim() == 3:
            out[1] = good_attention(q[1], k[1], v[1], cfg, mask=None)
        return out

    with pytest.raises(
        CheckFailed,
        match=r"batch \(2,\) at document 1, "
        r"query 0, dimension \d+: got",
    ):
        checks.check_attention(second_doc_wrong)


def test_attention_with_a_square_mask_fails_on_a_cache_chunk():
    def square(tq, tk):
        return torch.ones(tq, tk, dtype=torch.bool).tril()

    with pytest.raises(
        CheckFailed,
        match=r"1 queries over 6 keys, n_head=4,"
        r" batch \(\) at query 0, dimension \d+: .*; this is "
        r"what a square mask \(tril\(\), right only when "
        r"tq = tk\) gives$",
    ):
        checks.check_attention(
            lambda q, k, v, cfg: good_attention(q, k, v, cfg, mask=square)
        )


def test_attention_dropping_the_batch_axis_fails_on_shape():
    def first_doc(q, k, v, cfg):
        out = good_attention(q, k, v, cfg)
        return out[0] if out.dim() == 3 else out

    with pytest.raises(
        CheckFailed,
        match=r"batch \(2,\): expected shape "
        r"\(2, 5, 16\), got \(5, 16\)",
    ):
        checks.check_attention(first_doc)


def test_float32_loss_passes_b(capsys):
    checks.check_float32_loss(lambda: "b")
    assert "(b) is right" in capsys.readouterr().out


@pytest.mark.parametrize("letter", ["a", "c"])
def test_float32_loss_wrong_letter_points_at_the_section(letter):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 12, exercise 1: .*not "
        rf"\({letter}\); float32 keeps a 24-bit mantissa.*"
        rf"See \"Float32\"",
    ):
        checks.check_float32_loss(lambda: letter)


def test_float32_loss_is_what_torch_does():
    """The key's answer, (b): about 1e-7, measured."""
    import random

    from microgpt import gpt_torch
    from microgpt.config import ModelConfig
    from microgpt.params import init_weights

    cfg = ModelConfig()
    weights = init_weights(cfg, random.Random(42))
    frame = [26, 24, 20, 7, 4, 13, 6, 26]
    losses = [
        gpt_torch.batch_loss(
            gpt_torch.from_weights(weights, device="cpu", dtype=dt),
            [frame],
            cfg,
        ).item()
        for dt in (torch.float32, torch.float64)
    ]
    assert 1e-10 < abs(losses[0] - losses[1]) / losses[1] < 1e-5


def test_mask_after_softmax_passes_four(capsys):
    assert checks._rows_changed_by_masking_late(0, 5, 16) == 4
    checks.check_mask_after_softmax(lambda: 4)
    assert "4 is right" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (5, "the last query sees every key"),
        (0, "do they still sum to 1"),
        (1, "Every query but the last has a future"),
    ],
)
def test_mask_after_softmax_names_the_mistake(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 12, exercise 3: output"
        rf" rows that differ when the mask comes after the "
        rf"softmax: {wrong} is not it; .*{hint}",
    ):
        checks.check_mask_after_softmax(lambda: wrong)


@pytest.mark.parametrize(
    "builtin",
    [
        lambda lg: torch.logsumexp(lg, -1),
        lambda lg: lg.logsumexp(-1),
        lambda lg: -torch.log_softmax(lg, -1).max(-1).values,
        lambda lg: torch.special.logsumexp(lg, -1),
        lambda lg: -F.log_softmax(lg, -1).max(-1).values,
    ],
)
def test_cross_entropy_by_a_builtin_is_turned_off(builtin):
    def by_builtin(logits, targets):
        picked = logits[torch.arange(len(targets)), targets]
        return (builtin(logits) - picked).mean()

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 12, exercise 4: your "
        r"answer calls .*(logsumexp|log_softmax), which is "
        r"what the exercise asks you to write",
    ):
        checks.check_cross_entropy(by_builtin)
    # and they are back afterwards
    x = torch.zeros(2, 3)
    assert torch.allclose(builtin(x), torch.full((2,), 1.0986), atol=1e-4)


def test_attention_by_scaled_dot_product_attention_is_turned_off():
    def fused(q, k, v, cfg):
        def heads(x):
            return x.unflatten(-1, (cfg.n_head, cfg.head_dim)).transpose(
                -3, -2
            )

        mask = ~good_mask(q.shape[-2], k.shape[-2])
        out = F.scaled_dot_product_attention(
            heads(q), heads(k), heads(v), attn_mask=mask
        )
        return out.transpose(-3, -2).flatten(-2)

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 12, exercise 5: your "
        r"answer calls torch\.nn\.functional\.scaled_dot_"
        r"product_attention",
    ):
        checks.check_attention(fused)
    assert (
        F.scaled_dot_product_attention
        is torch._C._nn.scaled_dot_product_attention
    )
