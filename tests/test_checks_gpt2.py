"""The GPT-2 chapter's exercise checks pass right answers, fail wrong."""

import pytest
import torch

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import gpt2 as checks

pytestmark = pytest.mark.torch


def gpt2_params(
    V, T, L, d, tied=True, biases=True, final=True, gains=True, positions=True
):
    """Right by default; each flag turned off is one typical slip."""
    per_layer = 4 * d * d + 8 * d * d  # attention and the MLP
    if biases:
        per_layer += 3 * d + d + 4 * d + d
    if gains:
        per_layer += 4 * d  # two LayerNorms, gain and bias
    total = V * d + L * per_layer
    if positions:
        total += T * d
    if final and gains:
        total += 2 * d
    if not tied:
        total += V * d
    return total


def test_count_passes_and_gpt2_small_is_124_439_808(capsys):
    assert gpt2_params(50257, 1024, 12, 768) == 124_439_808
    checks.check_gpt2_params(gpt2_params)
    assert "✓ gpt2_params" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flag, mistake",
    [
        ("tied", "counting the tied output matrix a second time"),
        ("biases", "forgetting the biases"),
        ("final", "forgetting the final LayerNorm"),
        ("gains", "forgetting the LayerNorms' gains and biases"),
        ("positions", "forgetting the position embeddings"),
    ],
)
def test_count_names_each_slip(flag, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 18, exercise 1: "
        r"gpt2_params\(vocab_size=50257.*this is what " + mistake + " gives$",
    ):
        checks.check_gpt2_params(lambda *a: gpt2_params(*a, **{flag: False}))


def test_count_of_a_float_is_refused():
    with pytest.raises(CheckFailed, match="expected an int, got 120000000.0"):
        checks.check_gpt2_params(lambda *a: 1.2e8)


def layer_norm(x, weight, bias, eps, slip=None):
    mean = 0 if slip == "mean" else x.mean(-1, keepdim=True)
    n = x.shape[-1] - (1 if slip == "n-1" else 0)
    var = ((x - mean) ** 2).sum(-1, keepdim=True) / n
    scale = 1 / (var.sqrt() + eps) if slip == "eps" else (var + eps) ** -0.5
    return (x - mean) * scale * weight + bias


def test_layer_norm_passes(capsys):
    checks.check_layer_norm(layer_norm)
    assert "✓ layer_norm" in capsys.readouterr().out


@pytest.mark.parametrize(
    "slip, mistake",
    [
        ("mean", "leaving out the mean subtraction"),
        ("n-1", "dividing the variance by n - 1"),
        ("eps", "adding eps outside the square root"),
    ],
)
def test_layer_norm_names_each_slip(slip, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 18, exercise 2: "
        r"layer_norm of shape .* at row \d+, column \d+: "
        r".*this is what " + mistake,
    ):
        checks.check_layer_norm(lambda *a: layer_norm(*a, slip=slip))


def test_layer_norm_from_torch_is_turned_off():
    with pytest.raises(Exception, match="layer_norm"):
        checks.check_layer_norm(
            lambda x, w, b, eps: torch.nn.functional.layer_norm(
                x, w.shape, w, b, eps
            )
        )


CONV1D = (
    "attn.c_attn.weight",
    "attn.c_proj.weight",
    "mlp.c_fc.weight",
    "mlp.c_proj.weight",
)


def to_hf(name, w, transpose=True, prefix=True):
    if name != "lm_head.weight" and prefix:
        name = "transformer." + name
    return name, (w.t() if transpose and name.endswith(CONV1D) else w)


def test_to_hf_passes(capsys):
    checks.check_to_hf(to_hf)
    assert "✓ to_hf" in capsys.readouterr().out


def test_to_hf_without_the_transpose_names_conv1d():
    with pytest.raises(
        CheckFailed,
        match=r"c_attn.weight.*shape \(48, 16\)"
        r", expected \(16, 48\); GPT-2's Conv1D stores "
        r"\(in, out\)",
    ):
        checks.check_to_hf(lambda n, w: to_hf(n, w, transpose=False))


def test_to_hf_transposing_only_rectangles_names_the_square_one():
    def rectangles(name, w):
        name, _ = to_hf(name, w)
        return name, (
            w.t()
            if w.dim() == 2
            and w.shape[0] != w.shape[1]
            and "transformer.h." in name
            else w
        )

    with pytest.raises(
        CheckFailed,
        match=r"attn.c_proj.weight.*this is "
        r"what not transposing a Conv1D weight gives",
    ):
        checks.check_to_hf(rectangles)


def test_to_hf_without_the_prefix_says_where_weights_live():
    with pytest.raises(CheckFailed, match="under 'transformer.'"):
        checks.check_to_hf(lambda n, w: to_hf(n, w, prefix=False))


def test_to_hf_transposing_everything_is_named():
    with pytest.raises(CheckFailed, match="only Conv1D weights"):
        checks.check_to_hf(
            lambda n, w: to_hf(
                n, w.t() if w.dim() == 2 else w, transpose=False
            )
        )


def test_tied_share_takes_one_letter(capsys):
    checks.check_tied_share(lambda: "c")
    assert "(c) is right" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not \\(a\\); count V"):
        checks.check_tied_share(lambda: "a")
