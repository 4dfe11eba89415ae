"""``microgpt train --text`` and sampling a model of running text.

The names command's checks and output, for one long text instead of a
list of documents: the text's tokenizer (characters or byte-level BPE),
windows instead of documents, a held-out tail instead of held-out
names, and passages instead of names as samples.
"""

import json
import random
import sys

import numpy as np

from . import checkpoint, cost, outputs, text
from .bpe import BPE
from .data import sha256_of

DEFAULT_VOCAB_SIZE = 512   # BPE: 256 bytes and 256 merges
DEFAULT_LENGTH = 200       # tokens per sample of running text
DEFAULT_PROMPT = "\n"      # a passage starts after a line break


def check_options(args, error):
    """Raise error(message) if a text-only option is used on names."""
    given = [flag for flag, name in (
        ("--tokens", "tokens"), ("--vocab-size", "vocab_size"),
        ("--sample-length", "sample_length"), ("--prompt", "prompt"))
        if getattr(args, name, None) is not None]
    if getattr(args, "text", None) is None and given:
        raise error(f"{' and '.join(given)} "
                    f"{'needs' if len(given) == 1 else 'need'} --text: "
                    f"running text only")
    if args.text is not None and args.data is not None:
        raise error("give either --data (documents, one per line) or "
                    "--text (running text), not both")
    if args.vocab_size is not None and args.tokens != "bpe":
        raise error("--vocab-size needs --tokens bpe; a character "
                    "vocabulary is the text's characters")
    if args.vocab_size is not None and args.vocab_size < 257:
        raise error(f"--vocab-size must be at least 257 (256 bytes and "
                    f"one merge), got {args.vocab_size}")
    check_sampling(args, error)


def check_sampling(args, error):
    """Raise error(message) unless --sample-length is at least 1."""
    if args.sample_length is not None and args.sample_length < 1:
        raise error(f"--sample-length must be at least 1 token, got "
                    f"{args.sample_length}")


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
    """The ids of --prompt; ValueError naming the option if it has none."""
    try:
        ids = tokenizer.encode(prompt)
    except ValueError as e:
        raise ValueError(f"--prompt {prompt!r}: {e}") from None
    if not ids:
        raise ValueError("--prompt is empty: give at least one character")
    return ids


def print_passages(samples):
    """Each sample, its prompt first, under a numbered rule."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    for i, passage in enumerate(samples, start=1):
        print(f"--- sample {i} ---")
        print(passage)


def train(args, cfg, tcfg, impl_kwargs, fraction, eval_every, say_where):
    """The train command on running text (see commands.cmd_train)."""
    from dataclasses import replace

    path = text.resolve_text_path(args.text or None)
    outputs.check([("--save", args.save), ("--log", args.log)],
                  [("--text", path)])
    from .train import get_impl
    impl = get_impl(args.impl)  # import errors come before output
    corpus = text.load_text(path)
    if fraction:
        try:
            head, tail = text.split_text(corpus, fraction)
        except ValueError as e:
            raise ValueError(f"--val-fraction {fraction}: {e}") from None
    else:
        head, tail = corpus, None
    tokenizer = make_tokenizer(args, corpus, head)
    prompt = DEFAULT_PROMPT if args.prompt is None else args.prompt
    encode_prompt(tokenizer, prompt)  # before training, not after
    cfg = replace(cfg, vocab_size=tokenizer.vocab_size)
    n_tokens = len(tokenizer.encode(head))
    if n_tokens < cfg.block_size + 1:
        raise ValueError(f"the text has {n_tokens} tokens to train on, "
                         f"fewer than one window of --block-size "
                         f"{cfg.block_size} + 1")
    device, itemsize = None, 8
    if args.impl == "torch":
        device = impl_kwargs.get("device") or impl.default_device()
        itemsize = (impl_kwargs.get("dtype")
                    or impl.default_dtype(device)).itemsize
        say_where(impl, impl_kwargs)
    # For the cost estimate a window is a document of block_size
    # predictions: block_size - 1 characters framed by BOS.
    note = cost.check_run(args.impl, cfg, tcfg,
                          [" " * (cfg.block_size - 1)] * tcfg.batch_size,
                          device, itemsize)
    if note:
        print(f"microgpt: note: {note.replace('documents', 'windows')}",
              file=sys.stderr)
    record = {"name": path.name, "sha256": sha256_of(path),
              "characters": len(corpus), "held_out_fraction": fraction}
    print(f"text: {path.name}, {len(corpus)} characters")
    print(f"tokens: {describe(tokenizer)}, vocab size {cfg.vocab_size}, "
          f"{len(head) / n_tokens:.2f} characters per token")
    print(f"num params: {cost.num_params(cfg)}")
    if tail is not None:
        print(f"held out: the last {len(tail)} characters, never trained "
              f"on")
    sys.stdout.flush()

    from tqdm import tqdm

    log = None if args.log is None else outputs.LineLog("--log", args.log)
    bar = tqdm(total=tcfg.num_steps, unit="step", file=sys.stderr,
               dynamic_ncols=True)

    def on_step(step, loss):
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)
        if log is not None:
            log.write(json.dumps({"step": step, "loss": loss}))

    def on_eval(step, loss, bpc):
        bar.write(f"step {step:{len(str(tcfg.num_steps))}d}: held-out "
                  f"loss {loss:.4f} per token, {bpc:.4f} bits per "
                  f"character", file=sys.stdout)
        sys.stdout.flush()
        if log is not None:
            log.write(json.dumps({"step": step, "val_loss": loss,
                                  "val_bpc": bpc}))

    def on_trained(params, tokenizer, cfg):
        bar.close()
        if args.save is not None:
            checkpoint.save(args.save, impl.to_weights(params), cfg,
                            tokenizer, corpus=record)
            print(f"microgpt: saved the model to {args.save}",
                  file=sys.stderr)

    try:
        with np.errstate(all="ignore"):
            result = text.run(
                args.impl, head, tokenizer, cfg, tcfg, val_text=tail,
                eval_every=eval_every, on_step=on_step, on_eval=on_eval,
                on_trained=on_trained,
                sample_length=args.sample_length or DEFAULT_LENGTH,
                prompt=prompt, top_k=tcfg.top_k, top_p=tcfg.top_p,
                **impl_kwargs)
    finally:
        bar.close()
        if log is not None:
            log.close()
    print(f"=== {tcfg.num_samples} samples of "
          f"{args.sample_length or DEFAULT_LENGTH} tokens at temperature "
          f"{tcfg.temperature} ===")
    print_passages(result.samples)


def sample(args, impl, params, cfg, tokenizer, tcfg):
    """The sample command for a model of running text."""
    check_sampling(args, ValueError)
    trained_on = checkpoint.corpus(args.load)
    if trained_on is not None:
        print(f"microgpt: a model of running text ({describe(tokenizer)}"
              f" tokens), trained on {trained_on['name']} (sha256 "
              f"{trained_on['sha256'][:12]}...)", file=sys.stderr)
    length = args.sample_length or DEFAULT_LENGTH
    prompt = encode_prompt(tokenizer, DEFAULT_PROMPT if args.prompt is None
                           else args.prompt)
    rng = random.Random(tcfg.seed)
    print_passages([tokenizer.decode(prompt + text.generate(
        impl, params, cfg, prompt, length, rng, tcfg.temperature,
        top_k=tcfg.top_k, top_p=tcfg.top_p))
        for _ in range(tcfg.num_samples)])
