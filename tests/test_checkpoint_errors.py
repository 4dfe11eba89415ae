"""Checkpoints that load refuses, each with an error naming the file."""

import json
import random

import numpy as np
import pytest

from microgpt import checkpoint
from microgpt.checkpoint import CheckpointError
from microgpt.config import ModelConfig
from microgpt.data import Tokenizer
from microgpt.params import init_weights

pytestmark = pytest.mark.checkpoint


@pytest.fixture
def saved(docs, tmp_path):
    """A valid checkpoint file: a fresh two-layer model of the names."""
    tok = Tokenizer.from_docs(docs)
    cfg = ModelConfig(
        vocab_size=tok.vocab_size, n_layer=2, n_embd=8, block_size=8, n_head=2
    )
    weights = init_weights(cfg, random.Random(0))
    return checkpoint.save(tmp_path / "model.npz", weights, cfg, tok)


def rewrite(src, dest, change):
    """Copy the checkpoint src to dest with change(arrays, meta) applied."""
    with np.load(src, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(str(arrays[checkpoint.META_KEY]))
    change(arrays, meta)
    arrays[checkpoint.META_KEY] = np.array(json.dumps(meta))
    with open(dest, "wb") as f:
        np.savez(f, **arrays)
    return dest


def load_error(path):
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(path)
    msg = str(e.value)
    assert str(path) in msg
    return msg


# -- bad files ----------------------------------------------------------------


def test_a_missing_file(tmp_path):
    assert "no such checkpoint file" in load_error(tmp_path / "none.npz")


def test_an_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    assert "empty" in load_error(path)


def test_a_text_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("emma\nolivia\n")
    assert "not an .npz archive" in load_error(path)


def test_a_bare_npy_array(tmp_path):
    path = tmp_path / "wte.npy"
    np.save(path, np.zeros((27, 16)))
    assert "not an .npz archive" in load_error(path)


def test_a_truncated_file(saved, tmp_path):
    cut = tmp_path / "cut.npz"
    cut.write_bytes(saved.read_bytes()[: len(saved.read_bytes()) // 2])
    assert "truncated or corrupt" in load_error(cut)


def test_a_corrupted_byte(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    # Flip a byte inside the stored wte floats, found by value, so
    # that the zip's CRC check is what has to catch it.
    wte = checkpoint.load(saved)[0]["wte"]
    at = bytes(data).index(wte.tobytes()[:16]) + 5
    data[at] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    assert "truncated or corrupt" in load_error(bad)


def test_an_npz_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    assert "not a microgpt checkpoint" in load_error(path)


def test_an_unknown_format(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "f.npz",
        lambda a, m: m.update(format="something-else"),
    )
    assert "not a microgpt checkpoint" in load_error(path)


def test_an_unknown_version(saved, tmp_path):
    path = rewrite(
        saved, tmp_path / "v.npz", lambda a, m: m.update(version=99)
    )
    assert "version 99" in load_error(path)


def test_a_missing_weight(saved, tmp_path):
    path = rewrite(
        saved, tmp_path / "m.npz", lambda a, m: a.pop("layer1.attn_wv")
    )
    msg = load_error(path)
    assert "missing: layer1.attn_wv" in msg and "unexpected: none" in msg


def test_an_extra_weight(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "x.npz",
        lambda a, m: a.update({"layer2.attn_wq": a["wte"]}),
    )
    msg = load_error(path)
    assert "unexpected: layer2.attn_wq" in msg and "missing: none" in msg


def test_a_config_with_more_layers_than_weights(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "deep.npz",
        lambda a, m: m["model_config"].update(n_layer=3),
    )
    assert "missing: layer2.attn_wq" in load_error(path)


def test_a_shape_that_does_not_match_the_config(saved, tmp_path):
    path = rewrite(
        saved, tmp_path / "s.npz", lambda a, m: a.update(wpe=a["wpe"][:4])
    )
    msg = load_error(path)
    assert "wpe has shape (4, 8)" in msg and "(8, 8)" in msg


def test_an_invalid_config(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "c.npz",
        lambda a, m: m["model_config"].update(n_head=3),
    )
    msg = load_error(path)
    assert "bad model config" in msg and "divisible" in msg


def test_a_tokenizer_that_does_not_fit_the_vocabulary(saved, tmp_path):
    path = rewrite(
        saved, tmp_path / "t.npz", lambda a, m: m.update(chars=m["chars"][:-1])
    )
    msg = load_error(path)
    assert "tokenizer has 26 ids" in msg and "vocab_size 27" in msg


def test_unsorted_characters(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "u.npz",
        lambda a, m: m.update(chars=m["chars"][::-1]),
    )
    assert "sorted unique characters" in load_error(path)


def test_non_finite_weights(saved, tmp_path):
    def poison(arrays, meta):
        arrays["lm_head"] = arrays["lm_head"].copy()
        arrays["lm_head"][0, 0] = np.nan

    path = rewrite(saved, tmp_path / "nan.npz", poison)
    assert "lm_head holds NaN" in load_error(path)


def test_pickled_data_is_refused_not_run(saved, tmp_path):
    path = rewrite(
        saved,
        tmp_path / "p.npz",
        lambda a, m: a.update(wte=np.array([object()])),
    )
    assert "allow_pickle" in load_error(path)
