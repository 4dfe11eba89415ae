"""The PyTorch chapter's checks pass the reference and catch mistakes."""

import pytest
import torch  # pinned in requirements.txt: a broken install must fail

from microgpt import gpt_torch
from microgpt.checks import CheckFailed
from microgpt.checks import pytorch as checks

pytestmark = pytest.mark.torch


def good_mask(tq, tk):
    return torch.ones(tq, tk, dtype=torch.bool).triu(tk - tq + 1)


def good_cross_entropy(logits, targets):
    top = logits.max(dim=-1, keepdim=True).values.detach()
    lse = (logits - top).exp().sum(-1).log() + top.squeeze(-1)
    return (lse - logits.gather(-1, targets[:, None]).squeeze(-1)).mean()


def good_attention(q, k, v, cfg):
    tq, tk, hd = q.shape[-2], k.shape[-2], cfg.head_dim

    def heads(x):
        return x.unflatten(-1, (cfg.n_head, hd)).transpose(-3, -2)

    q, k, v = heads(q), heads(k), heads(v)
    scores = q @ k.transpose(-2, -1) / hd**0.5
    scores = scores.masked_fill(good_mask(tq, tk), float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(-3, -2).flatten(-2)


def test_checks_pass_the_reference(capsys):
    checks.check_causal_mask(good_mask)
    checks.check_cross_entropy(good_cross_entropy)
    checks.check_attention(good_attention)
    checks.check_attention(gpt_torch.attention)
    assert capsys.readouterr().out.count("✓") == 4


def test_mask_aligned_to_the_first_query_fails_with_a_position():
    # triu(1) is right for a square, wrong when the queries are the last
    # few positions of a longer cache.
    def square_only(tq, tk):
        return torch.ones(tq, tk, dtype=torch.bool).triu(1)

    with pytest.raises(CheckFailed, match=r"causal_mask\(1, 6\)\[0, 1\]: "
                       r"got True, expected False; query 0 sits at "
                       r"position 5 of 6, so key 1 must be visible"):
        checks.check_causal_mask(square_only)


def test_mask_inverted_fails():
    with pytest.raises(CheckFailed, match=r"causal_mask\(1, 1\)\[0, 0\]: "
                                          r"got True, expected False"):
        checks.check_causal_mask(lambda tq, tk: ~good_mask(tq, tk))


def test_mask_of_floats_fails_on_dtype():
    with pytest.raises(CheckFailed, match="expected dtype torch.bool"):
        checks.check_causal_mask(lambda tq, tk: good_mask(tq, tk).double())


def test_mask_of_wrong_shape_fails():
    # keys by keys, as if every position were a query
    with pytest.raises(CheckFailed, match=r"causal_mask\(1, 6\): expected "
                                          r"shape \(1, 6\), got \(6, 6\)"):
        checks.check_causal_mask(lambda tq, tk: good_mask(tk, tk))


def test_unstable_cross_entropy_fails_on_large_logits():
    def naive(logits, targets):
        p = logits.exp() / logits.exp().sum(-1, keepdim=True)
        return -p[range(len(targets)), targets].log().mean()

    # NOTE: the small cases pass; exp() overflows only at scale 800.
    with pytest.raises(CheckFailed, match=r"logits of scale 800: the loss: "
                                          r"got nan"):
        checks.check_cross_entropy(naive)


def test_cross_entropy_summed_not_averaged_fails():
    def summed(logits, targets):
        return good_cross_entropy(logits, targets) * len(targets)

    with pytest.raises(CheckFailed, match=r"7 positions.*the loss: got .* "
                                          r"\(difference"):
        checks.check_cross_entropy(summed)


def test_cross_entropy_outside_autograd_fails():
    def detached(logits, targets):
        return good_cross_entropy(logits.detach(), targets)

    with pytest.raises(CheckFailed, match="not connected to the logits"):
        checks.check_cross_entropy(detached)


def test_cross_entropy_returning_a_float_fails():
    with pytest.raises(CheckFailed, match="expected a torch tensor, got "
                                          "float"):
        checks.check_cross_entropy(
            lambda lg, t: good_cross_entropy(lg, t).item())


def test_attention_without_mask_fails():
    def unmasked(q, k, v, cfg):
        hd = cfg.head_dim
        q, k, v = (x.unflatten(-1, (cfg.n_head, hd)).transpose(-3, -2)
                   for x in (q, k, v))
        att = torch.softmax(q @ k.transpose(-2, -1) / hd**0.5, dim=-1)
        return (att @ v).transpose(-3, -2).flatten(-2)

    with pytest.raises(CheckFailed, match=r"5 queries over 5 keys, "
                       r"n_head=4, batch \(\)\[0\]\[\d+\]: got"):
        checks.check_attention(unmasked)


def test_attention_as_one_head_fails():
    def one_head(q, k, v, cfg):
        return good_attention(q, k, v, type(cfg)(n_embd=cfg.n_embd,
                                                 n_head=1))

    with pytest.raises(CheckFailed, match="attention with 5 queries"):
        checks.check_attention(one_head)


def test_attention_with_a_square_mask_fails_on_a_cache_chunk():
    def square_mask(q, k, v, cfg):
        hd = cfg.head_dim
        q, k, v = (x.unflatten(-1, (cfg.n_head, hd)).transpose(-3, -2)
                   for x in (q, k, v))
        s = q @ k.transpose(-2, -1) / hd**0.5
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool)
                          .triu(1), float("-inf"))
        return (torch.softmax(s, -1) @ v).transpose(-3, -2).flatten(-2)

    with pytest.raises(CheckFailed, match=r"1 queries over 6 keys"):
        checks.check_attention(square_mask)


def test_attention_dropping_the_batch_axis_fails_on_shape():
    def first_doc(q, k, v, cfg):
        out = good_attention(q, k, v, cfg)
        return out[0] if out.dim() == 3 else out

    with pytest.raises(CheckFailed, match=r"batch \(2,\): expected shape "
                                          r"\(2, 5, 16\), got \(5, 16\)"):
        checks.check_attention(first_doc)
