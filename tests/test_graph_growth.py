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
        nodes[T] = len(topological_order(
            gpt_scalar.doc_loss(params, doc, cfg)))
    # The counts chapter 13 prints; the graph depends on nothing random.
    assert nodes == {1: 11227, 2: 19047, 4: 34987, 8: 68051, 16: 138947}
    added = [(nodes[b] - nodes[a]) / (b - a)
             for a, b in ((1, 2), (2, 4), (4, 8), (8, 16))]
    # Each position adds nearly the same: attention's share that grows
    # with the position stays within an eighth of the first increment.
    assert added == sorted(added)
    assert added[-1] < 1.15 * added[0]
    assert 3.9 < nodes[16] / nodes[4] < 4.0
