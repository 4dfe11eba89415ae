"""A run's cost, estimated before it starts: memory, and a step's size."""

import builtins
import os
from dataclasses import replace

import pytest

from microgpt import cost
from microgpt.config import ModelConfig, SampleConfig, TrainConfig

pytestmark = pytest.mark.cli

NAMES = ["emma", "olivia", "ava", "isabella", "sophia"]
LENGTHS = [len(n) + 1 for n in NAMES]  # predictions per document


def test_one_document_is_taken_at_its_longest_a_batch_at_its_mean():
    assert cost.step_shape(LENGTHS, 16, 1) == (9, 9)
    assert cost.step_shape(LENGTHS, 4, 1) == (4, 4)
    N, T = cost.step_shape(LENGTHS, 16, 4)
    assert N == pytest.approx(4 * sum(LENGTHS) / len(LENGTHS))
    assert T == 16


@pytest.mark.parametrize("impl", ["scalar", "numpy", "torch"])
def test_every_size_makes_the_estimate_grow(impl):
    cfg, tcfg = ModelConfig(), TrainConfig()
    base = cost.memory_needed(impl, cfg, tcfg, LENGTHS)
    for bigger in (
        replace(cfg, n_layer=2),
        replace(cfg, n_embd=32),
        replace(cfg, block_size=1000),
    ):
        assert cost.memory_needed(impl, bigger, tcfg, LENGTHS) > base
    more = SampleConfig(num_samples=10**6)
    assert cost.memory_needed(impl, cfg, tcfg, LENGTHS, sampling=more) > base
    if impl != "scalar":
        batch = replace(tcfg, batch_size=4)
        assert cost.memory_needed(impl, cfg, batch, LENGTHS) > base


def test_the_twins_differ_as_their_floats_do():
    cfg, tcfg = ModelConfig(n_embd=256), TrainConfig()
    scalar, numpy, torch64, torch32 = (
        cost.memory_needed(impl, cfg, tcfg, LENGTHS, size)
        for impl, size in [
            ("scalar", 8),
            ("numpy", 8),
            ("torch", 8),
            ("torch", 4),
        ]
    )
    assert scalar > 10 * numpy  # a Value object per number
    assert torch32 < torch64


def test_the_original_needs_little_and_absurd_sizes_terabytes():
    tcfg = TrainConfig()
    assert cost.memory_needed("numpy", ModelConfig(), tcfg, LENGTHS) < 10e6
    for huge in (
        ModelConfig(n_embd=65536),
        ModelConfig(n_layer=10**6),
        ModelConfig(block_size=10**9),
    ):
        assert cost.memory_needed("numpy", huge, tcfg, LENGTHS) > 100e9


def test_a_need_beyond_what_is_free_is_refused_with_both_numbers():
    cost.check_memory(10, 11)
    cost.check_memory(10**15, None)  # unknown: no refusal
    with pytest.raises(ValueError) as e:
        cost.check_memory(3.5e9, 512e6, "cuda:0")
    assert str(e.value).startswith(
        "this run would need about 3.5 GB of "
        "memory, and cuda:0 has 512 MB free"
    )


@pytest.mark.skipif(
    not os.path.exists("/proc/meminfo"), reason="needs Linux's /proc/meminfo"
)
def test_the_memory_free_is_read_from_the_system():
    free = cost.memory_available()
    assert isinstance(free, int) and free > 0


def test_without_proc_or_sysconf_the_memory_free_is_unknown(monkeypatch):
    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path).startswith("/proc"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    if hasattr(os, "sysconf"):
        assert cost.memory_available() > 0  # the fallback
    monkeypatch.setattr(
        os, "sysconf", lambda name: int("no such"), raising=False
    )
    assert cost.memory_available() is None


def test_a_batch_larger_than_the_dataset_is_refused():
    tcfg = TrainConfig(batch_size=6)
    with pytest.raises(
        ValueError, match="--batch-size 6 is more than the 5 documents"
    ):
        cost.check_run("numpy", ModelConfig(), tcfg, NAMES)


def test_only_a_large_step_is_announced(monkeypatch):
    monkeypatch.setattr(cost, "memory_available", lambda: 1 << 40)
    assert cost.check_run("numpy", ModelConfig(), TrainConfig(), NAMES) is None
    wide = ModelConfig(n_embd=1024, n_head=4)
    note = cost.check_run("numpy", wide, TrainConfig(batch_size=5), NAMES)
    assert note.startswith("each step trains 5 documents, some ")
    assert "GFLOP" in note and "times a step of the original" in note


def test_train_flops_scale_with_batch_and_depth():
    cfg = ModelConfig()
    one = cost.train_flops(cfg, 1, 16)
    assert cost.train_flops(cfg, 64, 16) == 64 * one
    deeper = cost.train_flops(ModelConfig(n_layer=4), 1, 16)
    head = 3 * 2 * 16 * cfg.vocab_size * cfg.n_embd
    assert deeper - head == 4 * (one - head)
