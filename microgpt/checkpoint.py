"""One weights format for every implementation: a checked .npz file.

A checkpoint holds each weight matrix under its original name (``wte``,
``wpe``, ``lm_head``, ``layer0.attn_wq``, ...) as a float64 array, plus one
JSON entry with the model config and the tokenizer's characters. A model
of running text (see text.py) stores its tokenizer's own description
instead, characters or BPE merges, and what it was trained on. Any
implementation's ``to_weights`` output can be saved, and what ``load``
returns goes straight into any implementation's ``from_weights``.
"""

import io
import json
import zipfile
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import outputs
from .config import ModelConfig
from .data import Tokenizer
from .params import param_shapes
from .text import tokenizer_from_json

FORMAT = "microgpt-checkpoint"
VERSION = 1
META_KEY = "__microgpt__"  # no weight name starts with "__"


class CheckpointError(Exception):
    """A checkpoint file is missing, corrupt or does not fit its config."""


def _as_arrays(weights, where):
    """Name -> float64 array, from what a twin's to_weights returns."""
    arrays = {}
    for name, w in weights.items():
        try:
            arrays[name] = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            # Values, or tensors that track gradients: a state dict
            raise CheckpointError(
                f"{where}: weight {name} is not a matrix of floats; pass "
                f"the weights, impl.to_weights(params), not the "
                f"params"
            ) from None
    return arrays


def check(weights, cfg, tokenizer, where):
    """Raise CheckpointError unless weights and tokenizer fit cfg."""
    if tokenizer.vocab_size != cfg.vocab_size:
        raise CheckpointError(
            f"{where}: the tokenizer has {tokenizer.vocab_size} ids but "
            f"the model config has vocab_size {cfg.vocab_size}"
        )
    shapes = param_shapes(cfg)
    missing = [n for n in shapes if n not in weights]
    extra = [n for n in weights if n not in shapes]
    if missing or extra:
        raise CheckpointError(
            f"{where}: weight names do not match the config "
            f"(missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(extra) or 'none'})"
        )
    for name, shape in shapes.items():
        w = weights[name]
        if w.shape != shape:
            raise CheckpointError(
                f"{where}: weight {name} has shape {w.shape}, but the "
                f"config needs {shape}"
            )
        if not np.issubdtype(w.dtype, np.floating):
            raise CheckpointError(
                f"{where}: weight {name} has dtype {w.dtype}, not float"
            )
        if not np.isfinite(w).all():
            raise CheckpointError(
                f"{where}: weight {name} holds NaN or infinite values"
            )


def save(path, weights, model_config, tokenizer, corpus=None):
    """Write a checkpoint to path atomically; returns the path.

    weights is what any twin's to_weights(params) returns; corpus, a
    JSON-ready dict, says what a model of running text was trained on.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot save {path}: it is a folder")
    weights = _as_arrays(weights, f"cannot save {path}")
    check(weights, model_config, tokenizer, f"cannot save {path}")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": asdict(model_config),
    }
    if hasattr(tokenizer, "to_json"):  # a tokenizer of running text
        meta["tokenizer"] = tokenizer.to_json()
    else:
        meta["chars"] = list(tokenizer.chars)
    if corpus is not None:
        meta["corpus"] = corpus
    arrays = {META_KEY: np.array(json.dumps(meta)), **weights}

    def write(f):
        # NumPy before 2.0 leaves its zip file open when a write fails,
        # and closing it later raises again, on a closed file. Written to
        # memory first (a file object, so np.savez appends no ".npz"),
        # the checkpoint meets the disk in one write that fails cleanly.
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        f.write(buffer.getbuffer())

    return outputs.atomic_write(path, write)


def _read(path):
    """Every array of the .npz at path; CheckpointError if unreadable."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
        # Check the zip header first: np.load takes anything else
        # for a pickle and would blame "pickled data" for a text file.
        if magic != b"PK\x03\x04":
            what = "is empty" if not magic else "is not an .npz archive"
            raise CheckpointError(
                f"{path}: not a microgpt checkpoint (the file {what})"
            )
        # allow_pickle=False: a checkpoint is data, never code.
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except IsADirectoryError:
        raise CheckpointError(
            f"{path}: is a directory, not a checkpoint file"
        ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f"{path}: not a readable .npz checkpoint "
            f"(truncated or corrupt?): {e}"
        ) from None
    # An .npz reads lazily, so a damaged member only shows up here.
    try:
        with npz:
            return {name: npz[name] for name in npz.files}
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        zlib.error,
    ) as e:
        raise CheckpointError(
            f"{path}: not a readable .npz checkpoint "
            f"(truncated or corrupt?): {e}"
        ) from None


def _meta(arrays, path):
    """The checkpoint's config and tokenizer, checked."""
    if META_KEY not in arrays:
        raise CheckpointError(
            f"{path}: not a microgpt checkpoint (no {META_KEY} entry)"
        )
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
        if meta.get("format") != FORMAT:
            raise CheckpointError(
                f"{path}: not a microgpt checkpoint "
                f"(format {meta.get('format')!r})"
            )
        if meta.get("version") != VERSION:
            raise CheckpointError(
                f"{path}: checkpoint version {meta.get('version')!r} is "
                f"not supported (this microgpt reads version {VERSION})"
            )
        cfg = ModelConfig(**meta["model_config"])
        if "tokenizer" in meta:
            return cfg, tokenizer_from_json(meta["tokenizer"])
        chars = meta["chars"]
        if not all(
            isinstance(c, str) and len(c) == 1 for c in chars
        ) or chars != sorted(set(chars)):
            raise CheckpointError(
                f"{path}: the tokenizer's characters "
                f"are not sorted unique characters"
            )
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise CheckpointError(
            f"{path}: bad model config or tokenizer in checkpoint: "
            f"{type(e).__name__}: {e}"
        ) from None
    return cfg, Tokenizer(tuple(chars))


def corpus(path):
    """What the model at path was trained on, or None if it says not."""
    return _meta_dict(_read(path), path).get("corpus")


def _meta_dict(arrays, path):
    """The checkpoint's JSON entry as a dict."""
    if META_KEY not in arrays:
        raise CheckpointError(
            f"{path}: not a microgpt checkpoint (no {META_KEY} entry)"
        )
    try:
        meta = json.loads(str(arrays[META_KEY]))
    except ValueError as e:
        raise CheckpointError(
            f"{path}: bad model config or tokenizer in checkpoint: {e}"
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: not a microgpt checkpoint")
    return meta


def load(path):
    """(weights: name -> float64 array, ModelConfig, Tokenizer) of path."""
    arrays = _read(path)
    cfg, tokenizer = _meta(arrays, path)
    check(arrays, cfg, tokenizer, str(path))
    weights = {
        name: arrays[name].astype(np.float64) for name in param_shapes(cfg)
    }  # the original order
    return weights, cfg, tokenizer
