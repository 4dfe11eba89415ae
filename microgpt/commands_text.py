"""``microgpt train --text`` and sampling a model of running text.

The names command's checks and output, for one long text instead of a
list of documents: the text's tokenizer (characters or byte-level BPE),
windows instead of documents, a held-out tail instead of held-out
names, and passages instead of names as samples.
"""

import random
import sys
from dataclasses import replace

import numpy as np

from . import checkpoint, distributed, text
from .bpe import BPE
from .data import sha256_of
from .options import CliError
from .params import num_params
from .progress import Progress, check_cost, save
from .train import eval_due

DEFAULT_VOCAB_SIZE = 512  # BPE: 256 bytes and 256 merges
DEFAULT_LENGTH = 200  # tokens per sample of running text
DEFAULT_PROMPT = "\n"  # a passage starts after a line break


def check_options(args):
    """Raise CliError if the text options do not fit the others."""
    given = [
        flag
        for flag, name in (
            ("--tokens", "tokens"),
            ("--vocab-size", "vocab_size"),
            ("--sample-length", "sample_length"),
            ("--prompt", "prompt"),
        )
        if getattr(args, name, None) is not None
    ]
    if getattr(args, "text", None) is None and given:
        raise CliError(
            f"{' and '.join(given)} "
            f"{'needs' if len(given) == 1 else 'need'} --text: "
            f"running text only"
        )
    if args.text is not None and args.data is not None:
        raise CliError(
            "give either --data (documents, one per line) or "
            "--text (running text), not both"
        )
    if args.vocab_size is not None and args.tokens != "bpe":
        raise CliError(
            "--vocab-size needs --tokens bpe; a character "
            "vocabulary is the text's characters"
        )
    if args.vocab_size is not None and args.vocab_size < 257:
        raise CliError(
            f"--vocab-size must be at least 257 (256 bytes and "
            f"one merge), got {args.vocab_size}"
        )
    if args.text is not None and distributed.launched():
        raise CliError(
            "data parallelism trains on names; --text runs in one process"
        )
    check_sampling(args)


def check_sampling(args):
    """Raise CliError unless --sample-length is at least 1."""
    if args.sample_length is not None and args.sample_length < 1:
        raise CliError(
            f"--sample-length must be at least 1 token, got "
            f"{args.sample_length}"
        )


def make_tokenizer(args, corpus, train_part):
    """The tokenizer --tokens asks for; BPE learns from train_part only."""
    if args.tokens == "bpe":
        return BPE.train(train_part, args.vocab_size or DEFAULT_VOCAB_SIZE)
    # Every character of the whole text, so that one seen only in the
    # held-out tail can still be encoded.
    return text.CharTokenizer.from_text(corpus)


def describe(tokenizer):
    """'chars' or 'bpe', as --tokens names it."""
    return "bpe" if isinstance(tokenizer, BPE) else "chars"


def encode_prompt(tokenizer, prompt):
    """The ids of --prompt (None: a line break), which must have some."""
    prompt = DEFAULT_PROMPT if prompt is None else prompt
    try:
        ids = tokenizer.encode(prompt)
    except ValueError as e:
        raise CliError(f"--prompt {prompt!r}: {e}") from None
    if not ids:
        raise CliError("--prompt is empty: give at least one character")
    return ids


def _draw(twin, params, tokenizer, cfg, rng, prompt, length, scfg):
    """The passages the sampling settings scfg ask for, from prompt."""
    return text.passages(
        twin,
        params,
        tokenizer,
        cfg,
        rng,
        prompt,
        length,
        scfg.temperature,
        scfg.num_samples,
        top_k=scfg.top_k,
        top_p=scfg.top_p,
    )


def print_passages(samples):
    """Each sample, its prompt first, under a numbered rule."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    for i, passage in enumerate(samples, start=1):
        print(f"--- sample {i} ---")
        print(passage)


def train(args, path, twin, device, cfg, tcfg, scfg, fraction, eval_every):
    """The train command on running text (see commands.cmd_train).

    path is the --text file, already checked against the outputs, and
    twin and device the twin and where it computes.
    """
    corpus = text.load_text(path)
    head, tail = _split(corpus, fraction)
    tokenizer = make_tokenizer(args, corpus, head)
    prompt = encode_prompt(tokenizer, args.prompt)  # before training
    cfg = replace(cfg, vocab_size=tokenizer.vocab_size)
    ids = tokenizer.encode(head)
    if len(ids) < cfg.block_size + 1:
        raise CliError(
            f"the text has {len(ids)} tokens to train on, "
            f"fewer than one window of --block-size "
            f"{cfg.block_size} + 1"
        )
    # For the cost estimate a window is a document of block_size
    # predictions: block_size - 1 characters framed by BOS.
    check_cost(
        args.impl,
        cfg,
        tcfg,
        scfg,
        [" " * (cfg.block_size - 1)] * tcfg.batch_size,
        device,
        "windows",
    )
    _announce(path, corpus, head, tail, ids, tokenizer, cfg)
    rng = random.Random(tcfg.seed)
    params = twin.init_params(cfg, rng, **device)
    if tail is not None:
        val_ids, n_chars = text.held_out(tokenizer, tail)
    loop = text.train(twin, params, ids, cfg, tcfg, rng)
    # A diverging run ends in train.Diverged's one line, without
    # NumPy's warnings about its inf and nan before it.
    with (
        Progress(tcfg.num_steps, args.log) as shown,
        np.errstate(all="ignore"),
    ):
        if tail is not None:
            shown.held_out(
                0, *text.held_out_loss(twin, params, val_ids, n_chars, cfg)
            )
        for step, loss in loop:
            shown.step(step, loss)
            if tail is not None and eval_due(step, eval_every, tcfg.num_steps):
                shown.held_out(
                    step,
                    *text.held_out_loss(twin, params, val_ids, n_chars, cfg),
                )
    if args.save is not None:  # before sampling, which cannot lose it
        record = {
            "name": path.name,
            "sha256": sha256_of(path),
            "characters": len(corpus),
            "held_out_fraction": fraction,
        }
        save(args.save, twin, params, cfg, tokenizer, corpus=record)
    length = args.sample_length or DEFAULT_LENGTH
    print(
        f"=== {scfg.num_samples} samples of {length} tokens at "
        f"temperature {scfg.temperature} ==="
    )
    print_passages(
        _draw(twin, params, tokenizer, cfg, rng, prompt, length, scfg)
    )


def sample(args, twin, params, cfg, tokenizer, scfg):
    """The sample command for a model of running text."""
    check_sampling(args)
    trained_on = checkpoint.corpus(args.load)
    if trained_on is not None:
        print(
            f"microgpt: a model of running text ({describe(tokenizer)} "
            f"tokens), trained on {trained_on['name']} (sha256 "
            f"{trained_on['sha256'][:12]}...)",
            file=sys.stderr,
        )
    length = args.sample_length or DEFAULT_LENGTH
    prompt = encode_prompt(tokenizer, args.prompt)
    rng = random.Random(args.seed)
    print_passages(
        _draw(twin, params, tokenizer, cfg, rng, prompt, length, scfg)
    )


def _split(corpus, fraction):
    """(head, tail): the text to train on and the held-out tail, or None."""
    if not fraction:
        return corpus, None
    try:
        return text.split_text(corpus, fraction)
    except ValueError as e:
        raise CliError(f"--val-fraction {fraction}: {e}") from None


def _announce(path, corpus, head, tail, ids, tokenizer, cfg):
    """Print what the run trains on, before the progress bar starts."""
    print(f"text: {path.name}, {len(corpus)} characters")
    print(
        f"tokens: {describe(tokenizer)}, vocab size {cfg.vocab_size}, "
        f"{len(head) / len(ids):.2f} characters per token"
    )
    print(f"num params: {num_params(cfg)}")
    if tail is not None:
        print(f"held out: the last {len(tail)} characters, never trained on")
    sys.stdout.flush()
