"""Keeping freed memory: batched NumPy steps stop page-faulting."""

import json
import platform
import subprocess
import sys

import pytest

from microgpt import heap

pytestmark = pytest.mark.efficiency

# Trains 30 batched NumPy steps in a fresh process (so the heap is as the
# command line finds it) and prints the page faults of the last 20.
CHILD = """
import json, random, resource, sys
from microgpt import gpt_numpy
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import Tokenizer, load_docs
from microgpt.heap import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
docs = load_docs()
tok = Tokenizer.from_docs(docs)
cfg = ModelConfig(vocab_size=tok.vocab_size)
batch = [tok.frame(name) for name in docs[:64]]
params = gpt_numpy.init_params(cfg, random.Random(0))
opt = gpt_numpy.Adam(params, TrainConfig())
for _ in range(10):  # warm-up: the first steps grow the heap
    gpt_numpy.train_step_batch(params, opt, batch, 0.01, cfg)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    gpt_numpy.train_step_batch(params, opt, batch, 0.01, cfg)
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"kept": kept, "faults_per_step": (after - before) / 20}))
"""


def faults_per_step(mode):
    """Page faults per batched step in a fresh process, and kept."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_keep_freed_memory_works_on_glibc_only():
    glibc = platform.libc_ver()[0] == "glibc"
    assert heap.keep_freed_memory() is glibc
    assert heap.keep_freed_memory() is glibc  # and calling twice is fine


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                    reason="the knobs are glibc's")
def test_batched_steps_stop_page_faulting(docs):
    plain, kept = faults_per_step("plain"), faults_per_step("keep")
    assert kept["kept"] is True
    # Left to itself, glibc gives the step's arrays back every step (a
    # few hundred 4 KB pages); kept, the next step reuses them.
    assert plain["faults_per_step"] > 100
    assert kept["faults_per_step"] < 5
