"""The same GPT on character tokens and on byte-level BPE tokens.

Chapter 16 compares tokenizers on Tiny Shakespeare's held-out tail in
bits per character. Every run here trains the same model (two blocks,
the NumPy twin in float64) with the same optimizer, the same number of
steps and the same windows per step, each block_size tokens long: the
runs see the same number of tokens, and only the vocabulary differs. The
embedding table and the output layer grow with it, and so does the
arithmetic of the output layer at every position. A BPE token covers
more than one character, so a BPE run sees more of the text in the same
budget; that is part of what BPE buys, and the comparison in bits per
character counts it.
"""

import time

from ..bpe import BPE
from ..config import ModelConfig, SampleConfig, TrainConfig
from ..data import sha256_of
from ..params import num_params
from ..text import (
    CharTokenizer,
    load_text,
    resolve_text_path,
    split_text,
)
from ..text import (
    run as text_run,
)

HELD_OUT = 0.1
# "chars", or the vocabulary size of a byte-level BPE: 256 is the bytes
# alone, no merge.
TOKENS = ("chars", 256, 512, 1024)
STEPS = (100, 400, 1600)
MODEL = {"n_layer": 2, "n_embd": 32, "n_head": 4, "block_size": 32}
TRAIN = {"batch_size": 16, "learning_rate": 0.01, "seed": 0}
SAMPLE = {"length": 240, "temperature": 0.8, "prompt": "\n"}
PLAN = {"tokens": TOKENS, "steps": STEPS}
QUICK_PLAN = {"tokens": ("chars",), "steps": (100,)}


def tokenizer_for(spec, corpus, head):
    """Build the tokenizer a plan names; BPE learns on the training head."""
    if spec == "chars":
        return CharTokenizer.from_text(corpus)
    return BPE.train(head, spec)


def train_point(tokenizer, head, tail, num_steps):
    """Train once; return the held-out loss per token and bits per char."""
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size, **MODEL)
    tcfg = TrainConfig(num_steps=num_steps, **TRAIN)
    scfg = SampleConfig(num_samples=1, temperature=SAMPLE["temperature"])
    result = text_run(
        "numpy",
        head,
        tokenizer,
        cfg,
        tcfg,
        scfg,
        val_text=tail,
        sample_length=SAMPLE["length"],
        prompt=SAMPLE["prompt"],
    )
    _, loss, bpc = result.val_losses[-1]
    n_train = len(tokenizer.encode(head))
    embedding = 2 * cfg.vocab_size * cfg.n_embd  # wte and lm_head
    return {
        "num_steps": num_steps,
        "vocab_size": cfg.vocab_size,
        "num_params": num_params(cfg),
        "embedding_params": embedding,
        "train_tokens": n_train,
        "chars_per_token": len(head) / n_train,
        "tokens_seen": num_steps * TRAIN["batch_size"] * cfg.block_size,
        "val_loss_per_token": loss,
        "val_bits_per_char": bpc,
        "val_bits_per_char_at_init": result.val_losses[0][2],
        "last_train_losses": result.losses[-10:],
        "sample": result.samples[0],
    }


def run(quick=False):
    """Train every tokenizer for every number of steps."""
    plan = QUICK_PLAN if quick else PLAN
    path = resolve_text_path()
    corpus = load_text(path)
    head, tail = split_text(corpus, HELD_OUT)
    start = time.perf_counter()
    points = []
    for spec in plan["tokens"]:
        tokenizer = tokenizer_for(spec, corpus, head)
        for num_steps in plan["steps"]:
            points.append(
                {
                    "tokens": spec,
                    **train_point(tokenizer, head, tail, num_steps),
                }
            )
    return {
        "plan": {
            "tokens": list(plan["tokens"]),
            "steps": list(plan["steps"]),
            "held_out": HELD_OUT,
            "model": MODEL,
            "train": TRAIN,
            "sample": SAMPLE,
            "implementation": "numpy",
            "dtype": "float64",
            "budget": "the same steps, windows and tokens per "
            "window for every tokenizer",
        },
        "corpus": {
            "name": path.name,
            "sha256": sha256_of(path),
            "characters": len(corpus),
            "held_out_characters": len(tail),
        },
        "points": points,
        "elapsed_s": time.perf_counter() - start,
    }
