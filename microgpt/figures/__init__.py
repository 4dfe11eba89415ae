"""The book's figures: frame players and schematics.

players holds what moves (frame players); the other
modules draw the schematics, one function per picture, each returning
its matplotlib Figure, on the primitives of draw. The schematics are
loaded on first use, so that importing this package does not import
matplotlib.
"""

import importlib

from .players import (
    ICONS,
    STYLE,
    SVG,
    Player,
    frame_player,
    self_contained,
)

# Each schematic, by the module that draws it.
SCHEMATICS = {
    "pipeline": "overview",  # chapter 1
    "framing": "overview",  # chapter 2
    "expression_graph": "overview",  # chapter 3
    "state_dict": "overview",  # chapter 4
    "building_blocks": "blocks",  # chapter 5
    "attention_head": "attention",  # chapter 6
    "heads_split_join": "attention",
    "kv_cache": "attention",
    "transformer_block": "blocks",  # chapter 7
    "model_shapes": "blocks",
    "loss_chain": "loops",  # chapter 8
    "training_loop": "loops",  # chapter 9
    "sampling_loop": "loops",  # chapter 10
    "numpy_layer": "arrays",  # chapter 11
    "torch_autograd": "arrays",  # chapter 12
    "packing": "arrays",  # chapter 13
    "top_filtering": "generation",  # chapter 15
    "kv_cache_work": "generation",
    "text_windows": "stream",  # chapter 16
    "bpe_merges": "stream",
    "ablations": "ablation",  # chapter 17
    "gpt2_block": "gpt2",  # chapter 18
    "ring_allreduce": "parallel",  # chapter 14
    "head_reshape": "numpy_primer",  # the NumPy primer (appendix)
}

__all__ = [
    "ICONS",
    "STYLE",
    "SVG",
    "Player",
    "frame_player",
    "self_contained",
    *SCHEMATICS,
]


def __getattr__(name):
    if name in SCHEMATICS:
        module = importlib.import_module(f".{SCHEMATICS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *SCHEMATICS])
