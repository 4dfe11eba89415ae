"""The training chapter's exercise checks pass right answers, fail wrong."""

import pytest

from microgpt.course.checks import CheckFailed, training

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
    with pytest.raises(CheckFailed, match=r"^chapter 9, exercise 1: "
                       r"p after step 1 at parameter 0: got .*"
                       r"difference.*; this is what skipping the bias "
                       r"correction \(m and v in place of m_hat and v_hat\) "
                       r"gives$"):
        training.check_adam_update(adam_no_bias_correction)


def test_adam_update_with_swapped_betas_fails_on_m():
    with pytest.raises(CheckFailed, match=r"first moment m after step 1 at "
                                          r"parameter 0: .*; this is what "
                                          r"the two betas swapped gives$"):
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
    with pytest.raises(CheckFailed, match=r": p after step 1 at row 0, "
                                          r"column 0: .*; this is what "
                                          r"skipping the bias correction"):
        training.check_adam_arrays(adam_no_bias_correction)


def test_adam_arrays_rejects_a_flattened_result():
    def flat(p, g, m, v, t, lr, tcfg):
        return tuple(a.ravel() for a in adam_update(p, g, m, v, t, lr, tcfg))

    with pytest.raises(CheckFailed, match=r"shape \(48,\), expected \(6, 8\)"):
        training.check_adam_arrays(flat)


def decayed(step, tcfg):
    return tcfg.learning_rate * (1 - step / tcfg.num_steps)


def my_train(impl, params, docs, tokenizer, mcfg, tcfg, lr_fn=decayed):
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

    # the message names the first step whose loss differs, counted from 1:
    # step 3, the first after an update at a decayed rate
    with pytest.raises(CheckFailed, match=r"^chapter 9, exercise 3: loss at "
                       r"step 3: got .*difference.*; this is what a constant "
                       r"learning rate \(no decay\) gives$"):
        training.check_train_loop(constant_lr)


def test_train_loop_with_the_decay_off_by_one_names_it():
    def ahead(impl, params, docs, tokenizer, mcfg, tcfg):
        return my_train(impl, params, docs, tokenizer, mcfg, tcfg,
                        lr_fn=lambda step, tcfg: decayed(step + 1, tcfg))

    with pytest.raises(CheckFailed, match=r"loss at step 2: .*; this is what"
                       r" a learning-rate decay off by one step"):
        training.check_train_loop(ahead)


def test_train_loop_with_the_wrong_weights_names_the_entry():
    def one_step_more(impl, params, docs, tokenizer, mcfg, tcfg):
        losses = my_train(impl, params, docs, tokenizer, mcfg, tcfg)
        impl.train_step(params, impl.Adam(params, tcfg),
                        tokenizer.frame(docs[0]), 0.01, mcfg)
        return losses

    with pytest.raises(CheckFailed, match=r"trained weights \w+ at row \d+, "
                                          r"column \d+: got"):
        training.check_train_loop(one_step_more)


def test_train_loop_that_forgets_to_return_losses_fails():
    def no_return(impl, params, docs, tokenizer, mcfg, tcfg):
        my_train(impl, params, docs, tokenizer, mcfg, tcfg)

    with pytest.raises(CheckFailed, match="returned None"):
        training.check_train_loop(no_return)
