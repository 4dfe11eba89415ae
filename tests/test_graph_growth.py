"""The scalar graph grows nearly linearly with the document (chapter 13)."""

import pytest

from microgpt import gpt_scalar
from microgpt.bench.tools import stream_docs
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.engine import topological_order
from microgpt.params import init_weights
from microgpt.train import prepare

pytestmark = pytest.mark.model


def test_the_graph_of_a_step_is_nearly_linear_in_the_positions():
    cfg, tcfg = ModelConfig(), TrainConfig()
    rng, docs, tok = prepare(load_docs(), tcfg.seed)
    params = gpt_scalar.from_weights(init_weights(cfg, rng))
    nodes = {}
    for T in (1, 2, 4, 8, 16):
        doc = stream_docs(docs, tok, T + 1, 1)[0]
        nodes[T] = len(
            topological_order(gpt_scalar.batch_loss(params, [doc], cfg))
        )
    # The counts chapter 13 prints; the graph depends on nothing random.
    assert nodes == {1: 11227, 2: 19047, 4: 34987, 8: 68051, 16: 138947}
    added = [
        (nodes[b] - nodes[a]) / (b - a)
        for a, b in ((1, 2), (2, 4), (4, 8), (8, 16))
    ]
    # Each position adds nearly the same: attention's share that grows
    # with the position stays within an eighth of the first increment.
    assert added == sorted(added)
    assert added[-1] < 1.15 * added[0]
    assert 3.9 < nodes[16] / nodes[4] < 4.0


FULL_PASSES = """
import gc
from microgpt import gpt_scalar
from microgpt.bench.tools import stream_docs
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import load_docs
from microgpt.params import init_weights
from microgpt.train import prepare

cfg, tcfg = ModelConfig(), TrainConfig()
rng, docs, tok = prepare(load_docs(), tcfg.seed)
params = gpt_scalar.from_weights(init_weights(cfg, rng))
passes = []


def count(phase, info):
    if phase == "start" and info["generation"] == 2:
        passes[-1] += 1


for T in (4, 16):
    gc.collect()
    passes.append(0)
    gc.callbacks.append(count)
    loss = gpt_scalar.batch_loss(
        params, stream_docs(docs, tok, T + 1, 1)[:1], cfg
    )
    gc.callbacks.remove(count)
    del loss
print(*passes)
"""


def test_a_longer_document_gets_more_full_collections():
    # The collector's full passes, each over every live object, are what
    # makes the scalar step superlinear in T (chapter 13). Counted in a
    # fresh interpreter, so that the heap is the step's own.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", FULL_PASSES],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    short, long = map(int, out.split())
    assert long >= 1 and long > short
