"""The attention chapter's checks pass the reference and catch mistakes."""

import math
import random

import numpy as np
import pytest

from microgpt import gpt_scalar
from microgpt.config import ModelConfig
from microgpt.course.checks import CheckFailed
from microgpt.course.checks import attention as checks

pytestmark = pytest.mark.model


def head_with(q, keys, values, divisor):
    scores = [sum(a * b for a, b in zip(q, k)) / divisor for k in keys]
    w = gpt_scalar.softmax(scores)
    return [sum(wt * v[j] for wt, v in zip(w, values)) for j in range(len(q))]


def good_head(q, keys, values):
    return head_with(q, keys, values, math.sqrt(len(q)))


def windowed(head):
    """A window head that runs head on the last `window` keys."""
    return lambda q, k, v, window: head(q, k[-window:], v[-window:])


def weights_with(q, keys, cfg, divisor):
    hd = cfg.head_dim
    out = []
    for h in range(cfg.n_head):
        s = slice(h * hd, (h + 1) * hd)
        scores = [
            sum(a * b for a, b in zip(q[s], k[s])) / divisor for k in keys
        ]
        out.append([w.data for w in gpt_scalar.softmax(scores)])
    return out


def good_weights(q, keys, cfg):
    return weights_with(q, keys, cfg, math.sqrt(cfg.head_dim))


def _softmax_rows(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def good_causal(Q, K, V, n_head, mask=True, power=0.5, axis=-1):
    T, C = Q.shape
    hd = C // n_head
    out = np.empty((T, C))
    for h in range(n_head):
        s = slice(h * hd, (h + 1) * hd)
        S = Q[:, s] @ K[:, s].T
        S = S / hd**power  # power 0.5: the scale 1 / sqrt(head_dim)
        if mask:
            S[np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
        A = _softmax_rows(S) if axis == -1 else _softmax_rows(S.T).T
        out[:, s] = A @ V[:, s]
    return out


def test_checks_pass_the_reference(capsys):
    checks.check_window_head(windowed(good_head))
    checks.check_attention_weights(good_weights)
    checks.check_causal_attention(good_causal)
    assert capsys.readouterr().out.count("✓") == 3


def test_reference_weights_reproduce_the_package_attention():
    cfg = ModelConfig()
    rng = random.Random(1)
    q = checks._values(rng, cfg.n_embd)
    keys = [checks._values(rng, cfg.n_embd) for _ in range(5)]
    values = [checks._values(rng, cfg.n_embd) for _ in range(5)]
    weights = checks._reference_weights(q, keys, cfg)
    hd = cfg.head_dim
    mixed = [
        sum(weights[h][t] * values[t][h * hd + j].data for t in range(5))
        for h in range(cfg.n_head)
        for j in range(hd)
    ]
    package = gpt_scalar.attention(q, keys, values, cfg)
    assert max(abs(a - b.data) for a, b in zip(mixed, package)) < 1e-12


def test_head_without_scaling_fails_with_a_location():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 2: head "
        r"output \(d=4, window 3\) with 2 cached keys at "
        r"dimension \d: "
        r"got .* expected .* \(difference .*\); this is what "
        r"leaving the scores unscaled gives$",
    ):
        checks.check_window_head(
            windowed(lambda q, k, v: head_with(q, k, v, 1))
        )


def test_head_dividing_by_d_names_the_missing_square_root():
    with pytest.raises(
        CheckFailed,
        match=r"this is what a missing square "
        r"root in the scale",
    ):
        checks.check_window_head(
            windowed(lambda q, k, v: head_with(q, k, v, len(q)))
        )


def test_weights_with_a_missing_head_fail():
    def three_heads(q, keys, cfg):
        return good_weights(q, keys, cfg)[:-1]

    with pytest.raises(
        CheckFailed, match="number of heads .* got 3, expected 4"
    ):
        checks.check_attention_weights(three_heads)


def test_weights_of_a_wrong_slice_fail():
    def shifted(q, keys, cfg):
        w = good_weights(q, keys, cfg)
        return w[1:] + w[:1]  # head h reports head h+1's weights

    with pytest.raises(
        CheckFailed,
        match=r"weights of head 0 \(n_head=4, "
        r"6 keys\) at key 0: got [^;]*; 6 of 6 numbers differ, also at "
        r"key 1: got .*\(expected .*\), at key 2: .* and 1 more$",
    ):
        checks.check_attention_weights(shifted)


@pytest.mark.parametrize(
    "divisor, mistake",
    [
        (lambda cfg: 1, "leaving the scores unscaled"),
        (lambda cfg: cfg.head_dim, "a missing square root in the scale"),
    ],
)
def test_weights_with_a_wrong_scale_name_it(divisor, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"weights of head 0 \(n_head=4, "
        rf"6 keys\) at key \d: .*; this is what {mistake}",
    ):
        checks.check_attention_weights(
            lambda q, keys, cfg: weights_with(q, keys, cfg, divisor(cfg))
        )


def test_causal_attention_without_mask_fails_at_position_0():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 4: output "
        r"\(T=7, n_head=4\) at position 0, dimension \d+: got "
        r".*; this is what the mask not applied gives$",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: good_causal(Q, K, V, n, mask=False)
        )


def test_causal_attention_with_softmax_over_queries_names_the_axis():
    with pytest.raises(
        CheckFailed,
        match=r"at position 0, dimension \d+: "
        r".*; this is what a softmax over the wrong axis "
        r"\(over the queries, not the keys\) gives$",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: good_causal(Q, K, V, n, axis=0)
        )


@pytest.mark.parametrize(
    "power, mistake",
    [
        (0, "leaving the scores unscaled"),
        (1, "a missing square root in the scale"),
    ],
)
def test_causal_attention_with_a_wrong_scale_names_it(power, mistake):
    with pytest.raises(
        CheckFailed,
        match=rf"at position \d, dimension \d+:"
        rf" .*; this is what {mistake}",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: good_causal(Q, K, V, n, power=power)
        )


def test_causal_attention_of_wrong_shape_fails():
    with pytest.raises(
        CheckFailed,
        match=r"output shape .* expected "
        r"\(7, 16\), got \(16, 7\)",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: good_causal(Q, K, V, n).T
        )


def test_causal_attention_as_one_head_fails():
    with pytest.raises(
        CheckFailed,
        match=r"at position \d, dimension \d+:"
        r" .*; this is what one head over the whole width "
        r"gives$",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: good_causal(Q, K, V, 1)
        )


def test_head_with_the_scale_of_d_4_fails_on_a_wider_head():
    def halved(q, keys, values):  # 1 / sqrt(4), whatever len(q) is
        return head_with(q, keys, values, 2)

    with pytest.raises(
        CheckFailed,
        match=r"head output \(d=9, window 2\) "
        r"with 3 cached keys at dimension \d: got",
    ):
        checks.check_window_head(windowed(halved))


def test_head_that_overwrites_its_query_passes(capsys):
    def in_place(q, keys, values):
        out = good_head(q, keys, values)
        q[:] = out  # reuses the caller's list: allowed, q is not needed
        keys.clear()
        return q

    checks.check_window_head(windowed(in_place))
    assert "✓ one attention head" in capsys.readouterr().out


def _weights_for_head_dim_4(q, keys, cfg, scale=2, width=4):
    out = []
    for h in range(cfg.n_head):
        s = slice(width * h, width * h + width)
        scores = [sum(a * b for a, b in zip(q[s], k[s])) / scale for k in keys]
        out.append([w.data for w in gpt_scalar.softmax(scores)])
    return out


@pytest.mark.parametrize("fixed", ["scale", "width"])
def test_weights_that_assume_head_dim_4_fail_on_head_dim_6(fixed):
    # a scale of 1 / sqrt(4), or head slices of 4, whatever head_dim is
    def assumes_4(q, keys, cfg):
        hd = cfg.head_dim
        return _weights_for_head_dim_4(
            q,
            keys,
            cfg,
            scale=2 if fixed == "scale" else hd**0.5,
            width=4 if fixed == "width" else hd,
        )

    with pytest.raises(
        CheckFailed,
        match=r"weights of head 0 \(n_head=2, "
        r"6 keys\) at key \d: got",
    ):
        checks.check_attention_weights(assumes_4)


def test_weights_that_consume_their_keys_pass(capsys):
    def consuming(q, keys, cfg):
        out = good_weights(q, keys, cfg)
        keys.clear()
        q.reverse()
        return out

    checks.check_attention_weights(consuming)
    assert "✓ attention weights per head" in capsys.readouterr().out


@pytest.mark.parametrize(
    "start, mistake",
    [
        (lambda t, w: 0, "taking the whole cache \\(no window\\)"),
        (
            lambda t, w: max(0, t - w - 1),
            "taking one key too many \\(window \\+ 1\\)",
        ),
    ],
)
def test_window_head_over_the_wrong_keys_names_it(start, mistake):
    def wrong(q, keys, values, window):
        n = start(len(keys), window)
        return good_head(q, keys[n:], values[n:])

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 2: head "
        r"output \(d=4, window 3\) with 5 cached keys .*; "
        r"this is what " + mistake + " gives$",
    ):
        checks.check_window_head(wrong)


def test_window_head_over_the_first_keys_names_it():
    def first(q, keys, values, window):
        return good_head(q, keys[:window], values[:window])

    with pytest.raises(
        CheckFailed,
        match=r"this is what taking the first "
        r"window keys, not the last gives$",
    ):
        checks.check_window_head(first)


def test_mask_changes_pass_the_measured_pair(capsys):
    checks.check_mask_changes(lambda: (1, 6))
    checks.check_mask_changes(lambda: [1, 6])
    assert capsys.readouterr().out.count("✓") == 4


@pytest.mark.parametrize(
    "pair, hint",
    [
        ((6, 6), "with the mask, position t reads only keys 0 to t"),
        ((0, 6), "the last position reads its own key"),
        ((1, 1), "without the mask every position reads every key"),
        ((1, 5), "without the mask: 5 is one too few, an off-by-one"),
        (
            (0, 5),
            "with the mask: 0 is not it; the last position reads its own "
            "key .*; and positions that change, without the mask: 5 is one "
            "too few",
        ),
        ((1,), "expected a pair"),
    ],
)
def test_mask_changes_typical_mistakes_get_their_hint(pair, hint):
    with pytest.raises(
        CheckFailed, match=r"^chapter 6, exercise 1: .*" + hint
    ):
        checks.check_mask_changes(lambda: pair)


def test_weights_as_values_fail_asking_for_floats():
    def as_values(q, keys, cfg):
        return [
            [gpt_scalar.Value(w) for w in head]
            for head in good_weights(q, keys, cfg)
        ]

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 3: weights of head 0 \(n_head=4, 1 "
        r"keys\): got Values, expected floats, as the exercise asks",
    ):
        checks.check_attention_weights(as_values)


def whole_width(q, keys, cfg):
    scores = [
        sum(a * b for a, b in zip(q, k)) / math.sqrt(len(q)) for k in keys
    ]
    return [w.data for w in gpt_scalar.softmax(scores)]


def test_weights_of_one_head_over_the_whole_width_name_it():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 3: number of heads \(n_head=4, 1 "
        r"keys\): got 1 list of weights, expected 4, one per head; this is "
        r"one head over the whole width",
    ):
        checks.check_attention_weights(
            lambda q, keys, cfg: [whole_width(q, keys, cfg)]
        )


def test_weights_of_the_whole_width_in_every_head_name_it():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 3: weights of head 0 \(n_head=4, 6 "
        r"keys\) at key \d: .*; this is what one head over the whole "
        r"width \(each head scores its own slice .*\) gives$",
    ):
        checks.check_attention_weights(
            lambda q, keys, cfg: [whole_width(q, keys, cfg)] * cfg.n_head
        )


def reshaped_straight(Q, K, V, n_head, merge_back=True):
    # The hint's shape reached by one reshape, which mixes the positions
    # into the heads.
    T, C = Q.shape
    hd = C // n_head
    q, k, v = (X.reshape(n_head, T, hd) for X in (Q, K, V))
    S = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
    S[:, np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
    out = _softmax_rows(S) @ v  # (n_head, T, head_dim)
    if merge_back:
        return out.reshape(T, C)
    return out.transpose(1, 0, 2).reshape(T, C)


@pytest.mark.parametrize("merge_back", [True, False])
def test_causal_attention_reshaped_straight_to_heads_names_it(merge_back):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 6, exercise 4: output \(T=7, n_head=4\) at "
        r"position \d, dimension \d+: .*; this is what reshaping \(T, "
        r"n_embd\) straight to \(n_head, T, head_dim\), which puts "
        r"positions into heads \(reshape to \(T, n_head, head_dim\), then "
        r"transpose the first two axes\)( and back the same way)? gives$",
    ):
        checks.check_causal_attention(
            lambda Q, K, V, n: reshaped_straight(Q, K, V, n, merge_back)
        )


def test_causal_attention_merged_by_a_reshape_alone_names_it():
    def merged_by_reshape(Q, K, V, n_head):
        T, C = Q.shape
        hd = C // n_head
        q, k, v = (
            X.reshape(T, n_head, hd).transpose(1, 0, 2) for X in (Q, K, V)
        )
        S = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        S[:, np.triu(np.ones((T, T), dtype=bool), k=1)] = -np.inf
        return (_softmax_rows(S) @ v).reshape(T, C)

    with pytest.raises(
        CheckFailed,
        match=r"this is what putting the heads back together with a "
        r"reshape alone \(transpose .*\) gives$",
    ):
        checks.check_causal_attention(merged_by_reshape)
