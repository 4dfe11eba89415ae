"""The training chapter's exercise checks pass right answers, fail wrong."""

import pytest

from microgpt.checks import CheckFailed, training
from microgpt.train import lr_at

pytestmark = pytest.mark.model


def adam_update(p, g, m, v, t, lr, tcfg):
    m = tcfg.beta1 * m + (1 - tcfg.beta1) * g
    v = tcfg.beta2 * v + (1 - tcfg.beta2) * g ** 2
    m_hat = m / (1 - tcfg.beta1 ** t)
    v_hat = v / (1 - tcfg.beta2 ** t)
    return p - lr * m_hat / (v_hat ** 0.5 + tcfg.eps_adam), m, v


def adam_no_bias_correction(p, g, m, v, t, lr, tcfg):
    m = tcfg.beta1 * m + (1 - tcfg.beta1) * g
    v = tcfg.beta2 * v + (1 - tcfg.beta2) * g ** 2
    return p - lr * m / (v ** 0.5 + tcfg.eps_adam), m, v


def adam_swapped_betas(p, g, m, v, t, lr, tcfg):
    m = tcfg.beta2 * m + (1 - tcfg.beta2) * g
    v = tcfg.beta1 * v + (1 - tcfg.beta1) * g ** 2
    m_hat = m / (1 - tcfg.beta2 ** t)
    v_hat = v / (1 - tcfg.beta1 ** t)
    return p - lr * m_hat / (v_hat ** 0.5 + tcfg.eps_adam), m, v


def test_adam_update_passes_the_reference(capsys):
    training.check_adam_update(adam_update)
    assert "✓ adam_update" in capsys.readouterr().out


def test_adam_update_without_bias_correction_fails_on_p():
    with pytest.raises(CheckFailed, match=r"parameter p after step 1\[\d+\]"
                       r": got .*difference"):
        training.check_adam_update(adam_no_bias_correction)


def test_adam_update_with_swapped_betas_fails_on_m():
    with pytest.raises(CheckFailed, match="first moment m after step 1"):
        training.check_adam_update(adam_swapped_betas)


def test_adam_update_must_return_three_values():
    with pytest.raises(CheckFailed, match=r"tuple \(p, m, v\)"):
        training.check_adam_update(lambda p, g, m, v, t, lr, tcfg: p)


def test_adam_arrays_passes_the_elementwise_reference(capsys):
    # NOTE: the float solution is elementwise arithmetic, so it also works
    # on whole numpy arrays: that is the point of the exercise.
    training.check_adam_arrays(adam_update)
    assert "✓ adam_update_arrays" in capsys.readouterr().out


def test_adam_arrays_fails_without_bias_correction():
    with pytest.raises(CheckFailed, match="parameter p after step 1"):
        training.check_adam_arrays(adam_no_bias_correction)


def test_adam_arrays_rejects_a_flattened_result():
    def flat(p, g, m, v, t, lr, tcfg):
        return tuple(a.ravel() for a in adam_update(p, g, m, v, t, lr, tcfg))

    with pytest.raises(CheckFailed, match=r"shape \(48,\), expected \(6, 8\)"):
        training.check_adam_arrays(flat)


def my_train(impl, params, docs, tokenizer, mcfg, tcfg, lr_fn=lr_at):
    opt = impl.Adam(params, tcfg)
    losses = []
    for step in range(tcfg.num_steps):
        tokens = tokenizer.frame(docs[step % len(docs)])
        losses.append(impl.train_step(params, opt, tokens,
                                      lr_fn(step, tcfg), mcfg))
    return losses


def test_train_loop_passes_the_reference(capsys):
    training.check_train_loop(my_train)
    assert "✓ my_train" in capsys.readouterr().out


def test_train_loop_with_a_constant_learning_rate_fails():
    def constant_lr(impl, params, docs, tokenizer, mcfg, tcfg):
        return my_train(impl, params, docs, tokenizer, mcfg, tcfg,
                        lr_fn=lambda step, tcfg: tcfg.learning_rate)

    # the message names the step where the losses differ most
    with pytest.raises(CheckFailed, match=r"loss at step\[\d+\]: got .*"
                       r"difference"):
        training.check_train_loop(constant_lr)


def test_train_loop_that_forgets_to_return_losses_fails():
    def no_return(impl, params, docs, tokenizer, mcfg, tcfg):
        my_train(impl, params, docs, tokenizer, mcfg, tcfg)

    with pytest.raises(CheckFailed, match="returned None"):
        training.check_train_loop(no_return)
