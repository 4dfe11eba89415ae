"""What a training run will cost, estimated before it starts.

The command line refuses a run that cannot fit in memory before it
allocates anything, and announces a run whose steps are large. The
estimates count what each twin keeps per parameter, per layer
and per trained position, with constants fitted to measured peaks: they
tell "fits" from "far too big", not the last megabyte.
"""

import os
import statistics
from dataclasses import replace

from .config import ModelConfig, SampleConfig
from .params import num_params

# Bytes per parameter at float64, every copy counted: the weights, their
# gradient, Adam's two moments, scratch, and the Python floats that
# params.init_weights draws first. The scalar twin's are Value objects.
PARAM_BYTES = {"scalar": 240, "numpy": 56, "torch": 88}
# Bytes per parameter on the CPU while a model for a GPU is drawn: the
# Python floats it starts from.
HOST_PARAM_BYTES = 40
# Bytes per layer, whatever its width: arrays, tensors, autograd's nodes.
LAYER_BYTES = {"scalar": 4 << 10, "numpy": 8 << 10, "torch": 64 << 10}
NODE_BYTES = 256  # the bytes of one Value in the scalar twin's graph
SAMPLE_BYTES = 64  # the bytes of one sampled name besides its characters
# A step with more floating-point operations than this is announced
# before training starts.
BIG_STEP_FLOPS = 1e9


def step_shape(lengths, block_size, batch_size):
    """Return (N, T): the positions one step trains, and its rows' length.

    lengths holds each document's number of predictions (its characters
    + 1). One document is taken at its longest; a batch, packed into
    rows of up to block_size (see batch.pack), at its mean.
    """
    counts = [min(block_size, n) for n in lengths]
    if batch_size == 1:
        return max(counts), max(counts)
    N = batch_size * statistics.fmean(counts)
    return N, min(block_size, N)


def memory_needed(
    twin, cfg, tcfg, lengths, itemsize=8, sampling=SampleConfig()
):
    """Estimate the bytes a training run holds at its peak.

    twin is the twin's name ("scalar", "numpy" or "torch"); itemsize is
    the bytes of one float of the model: 8 (float64) or 4; sampling
    says how many samples the run draws at the end.
    """
    N, T = step_shape(lengths, cfg.block_size, tcfg.batch_size)
    L, C, H, V = cfg.n_layer, cfg.n_embd, cfg.n_head, cfg.vocab_size
    if twin == "scalar":
        # Two nodes per multiply-add (the product and the sum), plus the
        # norms, the softmax and the residual adds of every layer.
        macs = L * (12 * C * C + 2 * T * C) + V * C
        per_position = NODE_BYTES * (2 * macs + L * (16 * C + 4 * H * T))
    else:
        # What backward keeps of each layer (the inputs of the products,
        # the attention weights) and the logits, their softmax and
        # gradient; with a packed batch, its (T, T) masks.
        per_position = itemsize * (L * (24 * C + 5 * H * T) + 4 * V) + 10 * T
        # The NumPy twin's embedding backward also holds one-hot rows.
        if twin == "numpy":
            per_position += 9 * max(V, cfg.block_size)
    state = num_params(cfg) * PARAM_BYTES[twin] * itemsize // 8
    samples = sampling.num_samples * (SAMPLE_BYTES + cfg.block_size)
    return state + L * LAYER_BYTES[twin] + int(N * per_position) + samples


def host_needed(cfg):
    """Estimate the bytes the CPU holds while a model for a GPU is drawn."""
    return num_params(cfg) * HOST_PARAM_BYTES


def memory_available():
    """Return the bytes of memory this process may use, or None if unknown."""
    try:
        # On Linux, MemAvailable counts the page cache as free, since the
        # kernel gives it up when a process needs the memory.
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def gpu_memory_available(device):
    """Return the bytes free on a CUDA device, or None if torch cannot tell."""
    import torch

    try:
        return torch.cuda.mem_get_info(device)[0]
    except (RuntimeError, AssertionError):
        return None


def size(n):
    """Write a byte count for people to read: 512 MB, 3.2 GB, 1,234 GB."""
    if n < 1e9:
        return f"{n / 1e6:,.0f} MB"
    return f"{n / 1e9:,.1f} GB" if n < 100e9 else f"{n / 1e9:,.0f} GB"


def check_memory(need, available, where="this machine"):
    """Raise ValueError if need is more bytes than where has available."""
    if available is not None and need > available:
        raise ValueError(
            f"this run would need about {size(need)} of memory, and "
            f"{where} has {size(available)} free: make --n-layer, "
            f"--n-embd, --block-size, --batch-size or --num-samples "
            f"smaller"
        )


def train_flops(cfg, B, T):
    """Count the floating-point operations of one training step.

    A multiply-add is 2 operations, and backward costs about twice the
    forward pass, so a step is 3 forward passes.
    """
    C, V = cfg.n_embd, cfg.vocab_size
    # Multiply-adds per position in the matrices wq, wk, wv, wo, fc1 and
    # fc2 of every layer, and in the head.
    weights = cfg.n_layer * 12 * C * C + V * C
    attention = cfg.n_layer * 2 * T * T * C  # q @ k.T and att @ v
    return 3 * 2 * B * (T * weights + attention)


def step_flops(cfg, lengths, batch_size):
    """Count the operations of an average step, packed into full rows."""
    N = batch_size * statistics.fmean(min(cfg.block_size, n) for n in lengths)
    T = min(cfg.block_size, N)  # the length of each packed row
    return train_flops(cfg, N / T, T)


def check_run(
    twin, cfg, tcfg, docs, device=None, itemsize=8, sampling=SampleConfig()
):
    """Raise ValueError if a run cannot be done; return a note if large.

    The note (or None) says how many operations a step does, against a
    step of the original microgpt.

    device is torch's, or None for the CPU; itemsize is the bytes of
    the model's floats; sampling says how many samples the run draws.
    """
    if tcfg.batch_size > len(docs):
        raise ValueError(
            f"--batch-size {tcfg.batch_size} is more than "
            f"the {len(docs)} documents, so a step would "
            f"train some twice; give at most {len(docs)}"
        )
    lengths = [len(doc) + 1 for doc in docs]  # each document's predictions
    need = memory_needed(twin, cfg, tcfg, lengths, itemsize, sampling)
    if device is not None and device.type == "cuda":
        check_memory(host_needed(cfg), memory_available())
        check_memory(need, gpu_memory_available(device), str(device))
    else:
        check_memory(need, memory_available())
    flops = step_flops(cfg, lengths, tcfg.batch_size)
    if flops <= BIG_STEP_FLOPS:
        return None
    original = step_flops(
        replace(ModelConfig(), vocab_size=cfg.vocab_size), lengths, 1
    )
    return (
        f"each step trains {tcfg.batch_size} documents, some "
        f"{flops / 1e9:,.1f} GFLOP: {flops / original:,.0f} times a "
        f"step of the original"
    )
