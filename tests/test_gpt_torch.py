"""The PyTorch twin against the scalar reference: parity, cache, batches."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch  # pinned in requirements.txt: a broken install must fail
from twins import (
    CONFIGS,
    PARITY,
    assert_grads_close,
    pick_docs,
    rel_err,
    twin_params,
)

from microgpt import gpt_scalar, gpt_torch
from microgpt.batch import batch_arrays, mean_loss, pack
from microgpt.config import ModelConfig, TrainConfig
from microgpt.params import init_weights
from microgpt.train import lr_at, prepare, run

pytestmark = pytest.mark.torch


def test_evaluate_agrees_with_both_twins_and_keeps_no_graph(docs):
    from microgpt import gpt_numpy

    cfg = ModelConfig(n_layer=2, block_size=8)
    _, shuffled, tok = prepare(docs, 1)
    weights = init_weights(cfg, random.Random(2))
    batch = [tok.frame(d) for d in shuffled[:16]]
    want = gpt_scalar.evaluate(gpt_scalar.from_weights(weights), batch, cfg)
    params = gpt_torch.from_weights(weights, device="cpu")
    got = gpt_torch.evaluate(params, batch, cfg)
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=PARITY)
    with torch.no_grad():  # several batches
        several = mean_loss(gpt_torch.batch_loss, params, batch, cfg, 7)
    assert several == pytest.approx(want, rel=PARITY)
    assert got == pytest.approx(
        gpt_numpy.evaluate(gpt_numpy.from_weights(weights), batch, cfg),
        rel=PARITY,
    )
    assert all(p.grad is None for p in params.values())
    with pytest.raises(ValueError, match="no documents"):
        gpt_torch.evaluate(params, [], cfg)


# -- parameters and devices -------------------------------------------------


def test_default_device_is_cuda_exactly_when_available():
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert gpt_torch.default_device().type == want
    assert gpt_torch.default_dtype("cpu") == torch.float64
    assert gpt_torch.default_dtype("cuda") == torch.float32


def test_explicit_cpu_device_gives_float64_leaves():
    params = gpt_torch.init_params(
        ModelConfig(), random.Random(0), device="cpu"
    )
    for p in params.values():
        assert p.device.type == "cpu" and p.dtype == torch.float64
        assert p.is_leaf and p.requires_grad
    half = gpt_torch.init_params(
        ModelConfig(), random.Random(0), device="cpu", dtype=torch.float32
    )
    assert all(p.dtype == torch.float32 for p in half.values())


def test_weights_round_trip_exactly_and_are_copies():
    cfg = ModelConfig()
    weights = init_weights(cfg, random.Random(3))
    params = gpt_torch.from_weights(weights, device="cpu")
    out = gpt_torch.to_weights(params)
    assert list(out) == list(weights)
    for name, rows in weights.items():
        assert out[name].dtype == np.float64
        assert np.array_equal(out[name], np.array(rows))
    with torch.no_grad():
        params["wte"] += 1.0
    assert np.array_equal(out["wte"], np.array(weights["wte"]))
    again = gpt_torch.from_weights(params, device="cpu")  # tensors too
    assert torch.equal(again["wte"], params["wte"])
    assert again["wte"] is not params["wte"] and again["wte"].is_leaf


def test_init_uses_the_shared_python_stream_not_torchs():
    cfg = ModelConfig()
    torch.manual_seed(123)
    a = gpt_torch.to_weights(
        gpt_torch.init_params(cfg, random.Random(7), device="cpu")
    )
    torch.manual_seed(456)
    b = gpt_torch.to_weights(
        gpt_torch.init_params(cfg, random.Random(7), device="cpu")
    )
    expected = init_weights(cfg, random.Random(7))
    for name in expected:
        assert np.array_equal(a[name], b[name])
        assert np.array_equal(a[name], np.array(expected[name]))


def test_package_imports_without_torch():
    # A fresh interpreter where `import torch` fails: only gpt_torch
    # may need it, so the rest of the package must still import.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import microgpt, microgpt.train, microgpt.gpt_scalar\n"
        "import microgpt.gpt_numpy, microgpt.checkpoint, microgpt.cli\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


# Every device torch can see, so the CUDA path runs wherever a GPU
# is present, and a machine without one still tests the CPU path here.
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_each_visible_device_trains_and_samples_like_the_cpu(device, names):
    cfg, tcfg = ModelConfig(), TrainConfig()
    weights = init_weights(cfg, random.Random(0))
    ref = gpt_torch.from_weights(weights, device="cpu", dtype=torch.float64)
    dev = gpt_torch.from_weights(weights, device=device)  # default dtype
    want_dtype = torch.float64 if device == "cpu" else torch.float32
    assert all(
        p.device.type == device and p.dtype == want_dtype for p in dev.values()
    )
    rel = 1e-12 if want_dtype == torch.float64 else 1e-4
    opt_ref, opt_dev = gpt_torch.Adam(ref, tcfg), gpt_torch.Adam(dev, tcfg)
    shuffled, tok = names
    for step in range(20):
        tokens, lr = tok.frame(shuffled[step]), lr_at(step, tcfg)
        want = gpt_torch.train_step(ref, opt_ref, [tokens], lr, cfg)
        got = gpt_torch.train_step(dev, opt_dev, [tokens], lr, cfg)
        assert got == pytest.approx(want, rel=rel)
    ids = gpt_torch.generate(dev, cfg, random.Random(1), 0.5)
    assert len(ids) <= cfg.block_size
    assert all(0 <= i < cfg.vocab_size - 1 for i in ids)
    assert gpt_torch.to_weights(dev)["wte"].dtype == np.float64


# -- parity with the scalar reference ---------------------------------------


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_loss_and_every_gradient_match_scalar(cfg, names):
    scalar, params = twin_params(gpt_torch, cfg, device="cpu")
    for tokens in pick_docs(names, cfg):
        want_loss, want = gpt_scalar.loss_and_grads(scalar, [tokens], cfg)
        loss, grads = gpt_torch.loss_and_grads(params, [tokens], cfg)
        assert abs(loss - want_loss) <= PARITY * abs(want_loss)
        assert_grads_close(grads, want)
        assert all(p.grad is None for p in params.values())


@pytest.mark.parametrize(
    "cfg",
    [CONFIGS[k] for k in ("default", "n_layer=2", "n_head=1")],
    ids=["default", "n_layer=2", "n_head=1"],
)
def test_kv_cache_decoding_equals_the_full_forward(cfg, names):
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    tokens = pick_docs(names, cfg)[0]
    full = gpt_torch.forward(params, tokens, cfg)[0].detach()
    cache = gpt_torch.new_kv_cache(cfg)
    for pos, token in enumerate(tokens):
        step = gpt_torch.gpt(token, pos, cache, params, cfg).detach()
        assert step.shape == (cfg.vocab_size,)
        assert rel_err(step, full[pos]) <= PARITY
    assert all(len(keys) == len(tokens) for keys in cache[0])


def test_forward_is_causal():
    cfg = ModelConfig()
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    a = gpt_torch.forward(params, [26, 1, 2, 3, 4], cfg)[0].detach()
    b = gpt_torch.forward(params, [26, 1, 2, 9, 9], cfg)[0].detach()
    assert torch.equal(a[:3], b[:3])
    assert not torch.equal(a[3:], b[3:])


def test_short_documents_are_an_error():
    cfg = ModelConfig()
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    with pytest.raises(ValueError, match="at least 2 tokens"):
        gpt_torch.batch_loss(params, [[26]], cfg)


@pytest.mark.parametrize(
    "tokens, message",
    [
        ([-1, 2, 26], r"token ids must be in \[0, 27\)"),
        ([26, 2, 27], r"token ids must be in \[0, 27\)"),
        ([26, 1.7, 26], "token ids must be integers"),
    ],
    ids=["negative-input", "target-too-big", "float-id"],
)
def test_bad_ids_are_clear_errors_one_document_or_many(tokens, message):
    # A negative id would index wte from its end, and a target of
    # -1 would be taken for the padding that the batched loss ignores.
    cfg = ModelConfig()
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    with pytest.raises(ValueError, match=message):
        gpt_torch.batch_loss(params, [tokens], cfg)
    with pytest.raises(ValueError, match=message):
        gpt_torch.loss_and_grads(params, [tokens, [26, 1, 26]], cfg)


def test_forward_checks_ids_and_the_block_size():
    cfg = ModelConfig(block_size=4)
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    with pytest.raises(ValueError, match="do not fit in block_size 4"):
        gpt_torch.forward(params, [0] * 5, cfg)
    with pytest.raises(ValueError, match="no token ids"):
        gpt_torch.forward(params, [], cfg)


def test_ids_of_any_integer_dtype_give_the_same_loss():
    # A uint8 tensor indexes as a boolean mask, and an int32 target
    # is refused by the loss; both must come out as the list's loss.
    cfg = ModelConfig()
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    doc = [26, 1, 2, 3, 4, 5, 1, 26]
    want = gpt_torch.batch_loss(params, [doc], cfg).item()
    for dtype in (np.uint8, np.int16, np.int32, np.int64):
        ids = np.array(doc, dtype)
        got = gpt_torch.batch_loss(params, [ids], cfg).item()
        assert got == want, dtype


def test_from_weights_takes_any_float_state_dict():
    cfg = ModelConfig()
    half = gpt_torch.from_weights(
        init_weights(cfg, random.Random(0)), device="cpu", dtype=torch.bfloat16
    )
    again = gpt_torch.from_weights(half, device="cpu")
    assert again["wte"].dtype == torch.float64
    assert torch.equal(again["wte"], half["wte"].double())


def test_steps_match_a_live_scalar_run(names):
    # A small model, so 100 scalar steps take seconds; every loss and
    # then every weight must still agree.
    cfg, tcfg = (
        ModelConfig(n_embd=8, n_head=2, block_size=8),
        TrainConfig(num_steps=100),
    )
    scalar, params = twin_params(gpt_torch, cfg, 5, device="cpu")
    s_opt, t_opt = gpt_scalar.Adam(scalar, tcfg), gpt_torch.Adam(params, tcfg)
    shuffled, tok = names
    for step in range(tcfg.num_steps):
        tokens, lr = tok.frame(shuffled[step]), lr_at(step, tcfg)
        want = gpt_scalar.train_step(scalar, s_opt, [tokens], lr, cfg)
        got = gpt_torch.train_step(params, t_opt, [tokens], lr, cfg)
        assert abs(got - want) <= PARITY * abs(want), f"step {step + 1}"
    want_w = gpt_scalar.to_weights(scalar)
    for name, w in gpt_torch.to_weights(params).items():
        assert rel_err(w, want_w[name]) <= PARITY, name


def test_first_300_steps_match_the_recorded_run(docs, expected_run):
    # The recorded losses are the scalar twin's, bit for bit (its own
    # test), so this is a few hundred steps of parity in under a second.
    cfg, tcfg = ModelConfig(), TrainConfig()  # lr_at decays over 1000
    rng, names, tok = prepare(docs, tcfg.seed)
    params = gpt_torch.init_params(cfg, rng, device="cpu")
    opt = gpt_torch.Adam(params, tcfg)
    for step, want in enumerate(expected_run["losses"][:300]):
        got = gpt_torch.train_step(
            params, opt, [tok.frame(names[step])], lr_at(step, tcfg), cfg
        )
        assert abs(got - want) <= PARITY * abs(want), f"step {step + 1}"


@pytest.mark.slow
def test_full_run_matches_the_original(docs, expected_run):
    result = run("torch", docs, ModelConfig(), TrainConfig(), device="cpu")
    want = expected_run["losses"]
    assert len(result.losses) == len(want) == 1000
    for step, (got, exp) in enumerate(zip(result.losses, want)):
        assert abs(got - exp) <= PARITY * abs(exp), f"step {step + 1}"
    assert result.samples == expected_run["samples"]


def test_packed_batch_training_matches_numpy(docs):
    # Both twins pack the same way, so a batched run is the same run.
    cfg, tcfg = ModelConfig(), TrainConfig(num_steps=60, batch_size=16)
    want = run("numpy", docs, cfg, tcfg)
    got = run("torch", docs, cfg, tcfg, device="cpu")
    for step, (g, w) in enumerate(zip(got.losses, want.losses)):
        assert abs(g - w) <= PARITY * abs(w), f"step {step + 1}"
    assert got.samples == want.samples


def test_generate_draws_like_scalar():
    cfg = ModelConfig()
    scalar, params = twin_params(gpt_torch, cfg, 11, device="cpu")
    rng_s, rng_t = random.Random(2), random.Random(2)
    for temperature in (0.5, 1.0):
        for _ in range(3):
            want = gpt_scalar.generate(scalar, cfg, rng_s, temperature)
            assert gpt_torch.generate(params, cfg, rng_t, temperature) == want
    assert rng_s.getstate() == rng_t.getstate()


# -- batches of several documents ------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [CONFIGS[k] for k in ("default", "block_size=4", "n_layer=2")],
    ids=["default", "block_size=4", "n_layer=2"],
)
def test_batch_gradient_is_the_token_weighted_sum_of_doc_gradients(cfg, names):
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:5] + [min(shuffled, key=len)]]
    batch += [tok.frame("a"), tok.frame("o")]  # these two always share
    batch += pick_docs(names, cfg, 1)  # the longest name
    ns = [min(cfg.block_size, len(t) - 1) for t in batch]
    assert len(set(ns)) > 1  # real padding happens
    assert pack(batch, cfg.block_size).shared  # and packing
    loss, grads = gpt_torch.loss_and_grads(params, batch, cfg)
    want_loss, want = 0.0, {}
    for tokens, n in zip(batch, ns):
        doc, g = gpt_torch.loss_and_grads(params, [tokens], cfg)
        want_loss += doc * n / sum(ns)
        for name, x in g.items():
            want[name] = want.get(name, 0) + x * n / sum(ns)
    assert abs(loss - want_loss) <= PARITY * want_loss
    assert_grads_close(grads, want)


def test_batch_gradient_matches_finite_differences(names):
    cfg = ModelConfig(block_size=8)
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:4] + ["al"]] + pick_docs(
        names, cfg, 1
    )
    assert pack(batch, cfg.block_size).shared
    _, grads = gpt_torch.loss_and_grads(params, batch, cfg)
    h, rng = 1e-6, random.Random(0)
    for name, p in params.items():
        for _ in range(3):
            i = rng.randrange(p.shape[0])
            j = rng.randrange(p.shape[1])
            old, losses = p[i, j].item(), []
            for delta in (h, -h):
                with torch.no_grad():
                    p[i, j] = old + delta
                    losses.append(
                        gpt_torch.batch_loss(params, batch, cfg).item()
                    )
                    p[i, j] = old
            numeric = (losses[0] - losses[1]) / (2 * h)
            assert grads[name][i, j] == pytest.approx(
                numeric, rel=1e-6, abs=1e-9
            ), f"{name}[{i}, {j}]"


def test_packed_documents_see_only_themselves(names):
    cfg = CONFIGS["n_layer=2"]
    _, params = twin_params(gpt_torch, cfg, device="cpu")
    shuffled, tok = names
    batch = [tok.frame(n) for n in shuffled[:12]]
    p = pack(batch, cfg.block_size)
    assert p.shared
    with torch.no_grad():
        logits, _ = gpt_torch.forward(
            params, batch_arrays(batch, cfg), cfg
        )  # (R, T, V)
        for b, tokens in enumerate(batch):
            alone, _ = gpt_torch.forward(params, tokens[:-1], cfg)
            got = logits[torch.as_tensor(p.seq == b)]
            assert rel_err(got, alone) <= PARITY, b
