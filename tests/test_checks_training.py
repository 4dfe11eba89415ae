"""The training chapter's exercise checks pass right answers, fail wrong."""

import numpy as np
import pytest

from microgpt.config import TrainConfig
from microgpt.course.checks import CheckFailed, training

pytestmark = pytest.mark.model


def test_lr_distance_passes_the_sum_of_the_schedule(capsys):
    training.check_lr_distance(lambda: 5.0)
    assert "5 is right (measured 5.005" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (10.0, "that is a constant learning rate"),
        (0.01, "that is one step"),
        (7.5, "that is 1.5 times the learning rate"),
        (2.5, "too small"),
    ],
)
def test_lr_distance_names_the_mistake(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 9, exercise 1: the "
        rf"sum of the learning rates over the run: .*{hint}",
    ):
        training.check_lr_distance(lambda: wrong)


def test_scaled_loss_passes_b(capsys):
    training.check_scaled_loss(lambda: "b")
    assert "(b) is right" in capsys.readouterr().out


@pytest.mark.parametrize("letter", ["a", "c"])
def test_scaled_loss_wrong_letter_gets_the_hint(letter):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 9, exercise 2: .*not "
        rf"\({letter}\); Adam divides m_hat by the square "
        rf"root of v_hat.*See \"Bias correction\"",
    ):
        training.check_scaled_loss(lambda: letter)


def test_scaled_loss_is_what_adam_does():
    """The key's answer: a first step hardly changes with the scale."""
    tcfg = TrainConfig()
    for g in (1e-3, 0.3, -2.0):
        one, hundred = (
            adamw_update(0.0, s * g, 0.0, 0.0, 1, 0.01, tcfg, 0.0)[0]
            for s in (1, 100)
        )
        assert abs(hundred / one - 1) < 1e-4


def adamw_update(
    p,
    g,
    m,
    v,
    t,
    lr,
    tcfg,
    weight_decay,
    l2=False,
    bias_correction=True,
    lr_on_decay=True,
):
    """Right by default; the flags give the typical mistakes."""
    if l2:
        g, weight_decay = g + weight_decay * p, 0.0
    m = tcfg.beta1 * m + (1 - tcfg.beta1) * g
    v = tcfg.beta2 * v + (1 - tcfg.beta2) * g**2
    m_hat, v_hat = m, v
    if bias_correction:
        m_hat = m / (1 - tcfg.beta1**t)
        v_hat = v / (1 - tcfg.beta2**t)
    step = lr * m_hat / (v_hat**0.5 + tcfg.eps_adam)
    decay = (lr if lr_on_decay else 1) * weight_decay * p
    return p - step - decay, m, v


def test_adamw_update_passes_the_reference(capsys):
    training.check_adamw_update(adamw_update)
    assert "✓ adamw_update" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, what, hint",
    [
        ({"weight_decay": 0.0}, "p", "leaving out the weight decay"),
        (
            {"l2": True},
            "first moment m",
            r"adding the decay to the gradient "
            r"\(L2 regularization",
        ),
        (
            {"lr_on_decay": False},
            "p",
            "a decay not multiplied by the learning rate",
        ),
    ],
)
def test_adamw_update_names_the_mistake(flags, what, hint):
    def wrong(p, g, m, v, t, lr, tcfg, weight_decay):
        kw = {"weight_decay": weight_decay, **flags}
        return adamw_update(p, g, m, v, t, lr, tcfg, **kw)

    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 9, exercise 3: {what} "
        rf"after step 1 at parameter 0: got .*; this is what "
        rf"{hint}",
    ):
        training.check_adamw_update(wrong)


def test_adamw_update_without_bias_correction_fails_on_p():
    with pytest.raises(CheckFailed, match=r"p after step 1 at parameter 0"):
        training.check_adamw_update(
            lambda *args: adamw_update(*args, bias_correction=False)
        )


def test_adamw_update_must_return_three_values():
    with pytest.raises(CheckFailed, match=r"tuple \(p, m, v\)"):
        training.check_adamw_update(lambda p, g, m, v, t, lr, tcfg, wd: p)


def lazy_adam_rows(
    p, g, m, v, t, lr, tcfg, rows=True, moments=True, entries=False
):
    """Right by default; the flags give the typical mistakes."""
    m1, v1 = m, v
    p1, m1, v1 = adamw_update(p, g, m, v, t, lr, tcfg, 0.0)
    if entries:
        quiet = g == 0
    elif rows:
        quiet = ~g.any(axis=1, keepdims=True)
    else:
        quiet = np.zeros_like(g, dtype=bool)
    return (
        np.where(quiet, p, p1),
        np.where(quiet & moments, m, m1),
        np.where(quiet & moments, v, v1),
    )


def test_lazy_adam_passes_the_reference(capsys):
    training.check_lazy_adam(lazy_adam_rows)
    assert "✓ lazy_adam_rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, where, hint",
    [
        (
            {"rows": False},
            "p after step 3 at row 2",
            r"plain Adam \(rows without a gradient still move",
        ),
        (
            {"entries": True},
            "p after step 2 at row 1",
            "skipping entries whose gradient is zero, not whole rows",
        ),
        (
            {"moments": False},
            "first moment m after step 3 at row 2",
            "keeping p but updating m and v",
        ),
    ],
)
def test_lazy_adam_names_the_mistake(flags, where, hint):
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 9, exercise 4: "
        rf"{where}, column \d: .*"
        rf"this is what {hint}",
    ):
        training.check_lazy_adam(lambda *args: lazy_adam_rows(*args, **flags))


def test_lazy_adam_rejects_a_flattened_result():
    def flat(*args):
        return tuple(a.ravel() for a in lazy_adam_rows(*args))

    with pytest.raises(
        CheckFailed,
        match=r"p has shape \(48,\), expected "
        r"\(6, 8\)",
    ):
        training.check_lazy_adam(flat)


def decayed(step, tcfg):
    return tcfg.learning_rate * (1 - step / tcfg.num_steps)


def warmed(step, tcfg):
    return tcfg.learning_rate * min((step + 1) / 5, 1 - step / tcfg.num_steps)


def my_train(impl, params, docs, tokenizer, cfg, tcfg, lr_fn=warmed):
    opt = impl.Adam(params, tcfg)
    losses = []
    for step in range(tcfg.num_steps):
        tokens = tokenizer.frame(docs[step % len(docs)])
        losses.append(
            impl.train_step(params, opt, [tokens], lr_fn(step, tcfg), cfg)
        )
    return losses


def test_train_loop_passes_the_reference(capsys):
    training.check_train_loop(my_train)
    assert (
        "✓ my_train (15 steps with a warm-up of 5)" in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "lr_fn, mistake",
    [
        (lambda step, tcfg: tcfg.learning_rate, "a constant learning rate"),
        (decayed, r"no warm-up \(the decay alone\)"),
        (
            lambda step, tcfg: (
                tcfg.learning_rate * min(step / 5, 1 - step / tcfg.num_steps)
            ),
            r"a warm-up off by one step",
        ),
    ],
)
def test_train_loop_with_a_wrong_schedule_names_it(lr_fn, mistake):
    def wrong(impl, params, docs, tokenizer, cfg, tcfg):
        return my_train(impl, params, docs, tokenizer, cfg, tcfg, lr_fn=lr_fn)

    # the message names the first step whose loss differs, counted from
    # 1: step 2, the first after an update
    with pytest.raises(
        CheckFailed,
        match=rf"^chapter 9, exercise 5: loss at "
        rf"step 2: got .*difference.*; this is what "
        rf"{mistake}",
    ):
        training.check_train_loop(wrong)


def test_train_loop_with_the_wrong_weights_names_the_entry():
    def one_step_more(impl, params, docs, tokenizer, cfg, tcfg):
        losses = my_train(impl, params, docs, tokenizer, cfg, tcfg)
        impl.train_step(
            params,
            impl.Adam(params, tcfg),
            [tokenizer.frame(docs[0])],
            0.01,
            cfg,
        )
        return losses

    with pytest.raises(
        CheckFailed,
        match=r"trained weights \w+ at row \d+, "
        r"column \d+: got",
    ):
        training.check_train_loop(one_step_more)


def test_train_loop_that_forgets_to_return_losses_fails():
    def no_return(impl, params, docs, tokenizer, cfg, tcfg):
        my_train(impl, params, docs, tokenizer, cfg, tcfg)

    with pytest.raises(CheckFailed, match="returned None"):
        training.check_train_loop(no_return)
