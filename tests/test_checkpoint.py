"""Checkpoints: one weights format that every implementation reads.

What a checkpoint holds and how it is written; the files load refuses
are in test_checkpoint_errors.py.
"""

import json
import os
import random

import numpy as np
import pytest

from microgpt import checkpoint, train
from microgpt.checkpoint import CheckpointError
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import Tokenizer
from microgpt.params import param_shapes

pytestmark = pytest.mark.checkpoint


@pytest.fixture(scope="module")
def trained(docs):
    """A few steps of training with each implementation."""
    cfg = ModelConfig(n_layer=2, n_embd=8, block_size=8, n_head=2)
    tcfg = TrainConfig(num_steps=3)
    return {name: train.run(name, docs, cfg, tcfg) for name in train.TWINS}


def save(path, run, name="scalar"):
    """Save a run of implementation name through its own to_weights."""
    weights = train.get_twin(name).to_weights(run.params)
    return checkpoint.save(path, weights, run.model_config, run.tokenizer)


@pytest.fixture
def saved(trained, tmp_path):
    """A valid checkpoint file and what went into it."""
    run = trained["scalar"]
    return save(tmp_path / "model.npz", run), run


def arrays_of(path):
    """Every raw array in an .npz, meta entry included."""
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


# -- round trips --------------------------------------------------------------


@pytest.mark.parametrize("name", train.TWINS)
def test_round_trip_keeps_every_weight_exactly(trained, tmp_path, name):
    run = trained[name]
    weights, cfg, tok = checkpoint.load(save(tmp_path / "m.npz", run, name))
    assert cfg == run.model_config and tok == run.tokenizer
    expected = train.get_twin(name).to_weights(run.params)
    assert list(weights) == list(param_shapes(cfg))  # the original order
    for key, w in expected.items():
        assert weights[key].dtype == np.float64
        assert np.array_equal(weights[key], np.asarray(w))


def test_the_file_holds_the_original_names_config_and_characters(saved):
    path, run = saved
    arrays = arrays_of(path)
    meta = json.loads(str(arrays.pop(checkpoint.META_KEY)))
    assert set(arrays) == set(param_shapes(run.model_config))
    assert {
        "wte",
        "wpe",
        "lm_head",
        "layer1.attn_wq",
        "layer1.mlp_fc2",
    } <= set(arrays)
    assert meta["model_config"]["n_layer"] == run.model_config.n_layer
    assert "".join(meta["chars"]) == "".join(run.tokenizer.chars)


@pytest.mark.parametrize("name", ["scalar", "torch"])
def test_a_state_dict_is_refused_with_what_to_pass(trained, tmp_path, name):
    # Values and tensors that track gradients are no weights; NumPy's
    # state dict is arrays already, and saves as its weights would.
    run = trained[name]
    dest = tmp_path / "m.npz"
    with pytest.raises(CheckpointError, match=r"to_weights\(params\)"):
        checkpoint.save(dest, run.params, run.model_config, run.tokenizer)
    assert not dest.exists()


@pytest.mark.parametrize("trained_with", train.TWINS)
def test_train_with_one_sample_with_every_other(
    trained, tmp_path, trained_with
):
    run = trained[trained_with]
    path = save(tmp_path / "m.npz", run, trained_with)
    weights, cfg, tok = checkpoint.load(path)
    names = {}
    for name in train.TWINS:
        impl = train.get_twin(name)
        params = impl.from_weights(weights)
        names[name] = train.sample(
            impl, params, tok, cfg, random.Random(7), 0.8, 10
        )
    original = train.sample(
        train.get_twin(trained_with),
        run.params,
        tok,
        cfg,
        random.Random(7),
        0.8,
        10,
    )
    assert len(set(original)) > 1  # a test that could tell them apart
    for name in train.TWINS:
        assert names[name] == original, name


# -- writing is atomic --------------------------------------------------------


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp(
    saved, monkeypatch
):
    path, run = saved
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        # the half-written file sits beside the target (so the rename is
        # atomic, on one file system), never over it
        assert [n for n in os.listdir(path.parent) if n.endswith(".npz.part")]
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(path, run)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_a_saved_file_gets_the_usual_mode_not_a_private_one(saved, tmp_path):
    # The temporary file is made private (0600); the checkpoint must end
    # up as a plain open() would make it under the process's umask.
    _, run = saved
    old = os.umask(0o027)
    try:
        dest = save(tmp_path / "m.npz", run)
    finally:
        os.umask(old)
    assert dest.stat().st_mode & 0o777 == 0o640


def test_save_to_a_folder_is_an_error(saved, tmp_path):
    _, run = saved
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="is a folder"):
        save(folder, run)
    assert os.listdir(folder) == []
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "out"]


def test_save_refuses_weights_that_do_not_fit_the_config(saved, tmp_path):
    _, run = saved
    weights = train.get_twin("scalar").to_weights(run.params)
    del weights["layer1.mlp_fc1"]
    dest = tmp_path / "bad.npz"
    with pytest.raises(CheckpointError, match="layer1.mlp_fc1"):
        checkpoint.save(dest, weights, run.model_config, run.tokenizer)
    assert not dest.exists()


def test_a_tokenizer_round_trips_any_characters(tmp_path):
    tok = Tokenizer.from_docs(["é ü", "\"'\\", "日本"])
    cfg = ModelConfig(
        vocab_size=tok.vocab_size, n_embd=4, n_head=1, block_size=4
    )
    weights = {
        name: np.zeros(shape) for name, shape in param_shapes(cfg).items()
    }
    path = checkpoint.save(tmp_path / "u.npz", weights, cfg, tok)
    assert checkpoint.load(path)[2] == tok
