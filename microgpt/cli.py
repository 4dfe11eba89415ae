"""The command line: ``python -m microgpt train`` and ``... sample``."""

import argparse
import json
import os
import random
import sys
from dataclasses import fields, replace

from . import checkpoint, train
from .config import ModelConfig, TrainConfig
from .data import DataError, Tokenizer, load_docs
from .heap import keep_freed_memory
from .params import num_params

DEFAULT_IMPL = "numpy"  # the original's results, in a fraction of the time

# (option, config field, help): every field of both configs but
# vocab_size, which the dataset decides.
MODEL_OPTIONS = [
    ("--n-layer", "n_layer", "transformer blocks"),
    ("--n-embd", "n_embd", "width of the residual stream"),
    ("--block-size", "block_size", "longest context, in tokens"),
    ("--n-head", "n_head", "attention heads (must divide --n-embd)"),
]
TRAIN_OPTIONS = [
    ("--steps", "num_steps", "training steps"),
    ("--lr", "learning_rate", "peak learning rate (decays linearly to 0)"),
    ("--beta1", "beta1", "Adam's decay of the gradient mean"),
    ("--beta2", "beta2", "Adam's decay of the squared-gradient mean"),
    ("--eps", "eps_adam", "Adam's epsilon"),
    ("--seed", "seed", "seed of the one random stream"),
    ("--temperature", "temperature", "sampling temperature (> 0)"),
    ("--num-samples", "num_samples", "names to sample after training"),
    ("--batch-size", "batch_size", "documents per step (1 = original)"),
]


class CliError(Exception):
    """Bad input found by the command line itself."""


def _config(cls, flags, **values):
    """cls(**values); its errors name the flags (field -> flag) instead."""
    try:
        return cls(**values)
    except ValueError as e:
        message = str(e)
        for name, flag in flags.items():  # "TrainConfig.num_steps" etc.
            message = message.replace(f"{cls.__name__}.{name}", flag)
        raise CliError(message) from None


def _defaults(cls):
    """Field name -> (default, type) of a config dataclass."""
    return {f.name: (f.default, type(f.default)) for f in fields(cls)}


def _add_config_options(parser, options, cls):
    """One option per config field, its default and type from cls."""
    defaults = _defaults(cls)
    for flag, name, help_text in options:
        default, kind = defaults[name]
        parser.add_argument(flag, dest=name, type=kind, default=default,
                            help=help_text)


def _add_impl_options(parser):
    """--impl, --device and --dtype, shared by both commands."""
    parser.add_argument("--impl", choices=train.IMPLS, default=DEFAULT_IMPL,
                        help="implementation: scalar is the original, "
                             "numpy and torch are its fast twins")
    parser.add_argument("--device", default=None,
                        help="torch only: cpu, cuda, cuda:1, ...; None "
                             "picks cuda if available, else cpu")
    parser.add_argument("--dtype", choices=("float64", "float32"),
                        default=None,
                        help="torch only; None picks float64 on the CPU "
                             "(parity with scalar), float32 on a GPU")


def build_parser():
    """The argument parser of both commands."""
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="microgpt", formatter_class=fmt,
        description="Train the microgpt GPT on names, or sample from a "
                    "saved model.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{train,sample}")

    p = commands.add_parser(
        "train", formatter_class=fmt, help="train a model, then sample",
        description="Train on the names dataset and print samples, as the "
                    "original program does.")
    _add_impl_options(p)
    _add_config_options(p, MODEL_OPTIONS, ModelConfig)
    _add_config_options(p, TRAIN_OPTIONS, TrainConfig)
    p.add_argument("--data", default=None, metavar="PATH",
                   help="your own text file, one document per line; "
                        "None uses $MICROGPT_DATA, the cache, or a "
                        "download of names.txt")
    p.add_argument("--save", default=None, metavar="PATH",
                   help="write the trained model to this .npz "
                        "checkpoint; None saves nothing")
    p.add_argument("--log", default=None, metavar="PATH",
                   help='write one JSON line per step, {"step": 1, '
                        '"loss": ...}, the loss at full precision; None '
                        'writes no log')

    p = commands.add_parser(
        "sample", formatter_class=fmt, help="sample from a checkpoint",
        description="Sample names from a model saved with train --save, "
                    "with any implementation.")
    # NOTE: SUPPRESS, or the help would show "(default: None)".
    p.add_argument("--load", required=True, metavar="PATH",
                   default=argparse.SUPPRESS,
                   help="the .npz checkpoint to sample from")
    _add_impl_options(p)
    sample_defaults = _defaults(TrainConfig)
    p.add_argument("--num", dest="num_samples", type=int,
                   default=sample_defaults["num_samples"][0],
                   help="how many names to sample")
    p.add_argument("--temperature", type=float,
                   default=sample_defaults["temperature"][0],
                   help="sampling temperature (> 0)")
    p.add_argument("--seed", type=int, default=sample_defaults["seed"][0],
                   help="seed of the sampling random stream")
    return parser


def _impl_kwargs(args):
    """Keyword arguments for the implementation: torch's device, dtype."""
    given = [f"--{name}" for name in ("device", "dtype")
             if getattr(args, name) is not None]
    if not given:
        return {}
    if args.impl != "torch":
        raise CliError(f"--impl {args.impl} takes no {' or '.join(given)} "
                       f"(torch only)")
    import torch

    kwargs = {}
    if args.dtype is not None:
        kwargs["dtype"] = getattr(torch, args.dtype)
    if args.device is not None:
        try:
            device = torch.device(args.device)
        except RuntimeError as e:
            raise CliError(f"bad --device {args.device!r}: {e}") from None
        # NOTE: checked here, not at the first tensor: torch's own error
        # for a missing GPU surfaces deep inside the model.
        if device.type == "cuda" and not torch.cuda.is_available():
            raise CliError(f"--device {args.device}: CUDA is not available "
                           f"(this torch is {torch.__version__})")
        if device.type == "cuda" and device.index is not None \
                and device.index >= torch.cuda.device_count():
            raise CliError(f"--device {args.device}: there are only "
                           f"{torch.cuda.device_count()} CUDA devices")
        kwargs["device"] = device
    return kwargs


def _check_writable(option, path):
    """Fail now, not after training, if path cannot be a file we write."""
    if path is None:
        return
    # NOTE: "" is what --save "$OUT" passes when OUT is unset.
    if not path:
        raise CliError(f"{option} needs a file path, got an empty one")
    if os.path.isdir(path):
        raise CliError(f"{option} {path}: is a folder; give a file path")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"{option} {path}: folder {folder} does not exist")


def _print_samples(samples):
    """The samples, numbered as in the original."""
    for i, name in enumerate(samples, start=1):
        print(f"sample {i:2d}: {name}")


def cmd_train(args):
    """Train, report, print the samples, then optionally save."""
    flags = {name: flag for flag, name, _ in MODEL_OPTIONS + TRAIN_OPTIONS}
    mcfg = _config(ModelConfig, flags, **{name: getattr(args, name)
                                          for _, name, _ in MODEL_OPTIONS})
    tcfg = _config(TrainConfig, flags, **{name: getattr(args, name)
                                          for _, name, _ in TRAIN_OPTIONS})
    _check_writable("--save", args.save)
    _check_writable("--log", args.log)
    impl_kwargs = _impl_kwargs(args)
    docs = load_docs(args.data)
    impl = train.get_impl(args.impl)  # import errors come before output
    train.check_batch_size(impl, tcfg)
    vocab_size = Tokenizer.from_docs(docs).vocab_size
    print(f"num docs: {len(docs)}")
    print(f"vocab size: {vocab_size}")
    print(f"num params: {num_params(replace(mcfg, vocab_size=vocab_size))}")
    sys.stdout.flush()  # before the progress bar starts on stderr
    # NOTE: batched NumPy steps would otherwise page-fault their arrays
    # back in every step (see heap); this process is ours to tune.
    keep_freed_memory()

    from tqdm import tqdm

    # NOTE: the log is line-flushed, not written atomically at the end: it
    # is there to watch a run (tail -f) and to keep every finished step of
    # a run that crashes or is interrupted. Each line is one write.
    log = None
    if args.log is not None:
        log = open(args.log, "w", encoding="utf-8")
    bar = tqdm(total=tcfg.num_steps, unit="step", file=sys.stderr,
               dynamic_ncols=True)

    def on_step(step, loss):
        loss = float(loss)
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)
        if log is not None:
            log.write(json.dumps({"step": step, "loss": loss}) + "\n")
            log.flush()

    try:
        result = train.run(args.impl, docs, mcfg, tcfg, on_step=on_step,
                           **impl_kwargs)
    finally:
        bar.close()
        if log is not None:
            log.close()
    print(f"--- {tcfg.num_samples} samples at temperature "
          f"{tcfg.temperature} ---")
    _print_samples(result.samples)
    if args.save is not None:  # after the samples: a failure keeps them
        sys.stdout.flush()
        checkpoint.save(args.save, result.params, result.model_config,
                        result.tokenizer)
        print(f"microgpt: saved the model to {args.save}", file=sys.stderr)


def cmd_sample(args):
    """Load a checkpoint into the chosen implementation and sample."""
    # NOTE: TrainConfig validates --num, --temperature and --seed.
    tcfg = _config(TrainConfig, {"num_samples": "--num",
                                 "temperature": "--temperature",
                                 "seed": "--seed"},
                   num_samples=args.num_samples,
                   temperature=args.temperature, seed=args.seed)
    impl_kwargs = _impl_kwargs(args)
    weights, mcfg, tokenizer = checkpoint.load(args.load)
    impl = train.get_impl(args.impl)
    params = impl.from_weights(weights, **impl_kwargs)
    rng = random.Random(tcfg.seed)
    _print_samples(train.sample(impl, params, tokenizer, mcfg, rng,
                                tcfg.temperature, tcfg.num_samples))


def _error(message):
    """Report bad input on one line of stderr."""
    message = str(message).replace("\n", " ")
    print(f"microgpt: error: {message}", file=sys.stderr)


def main(argv=None):
    """Run one command; returns the exit status."""
    args = build_parser().parse_args(argv)  # usage errors exit with 2
    command = cmd_train if args.command == "train" else cmd_sample
    try:
        command(args)
    # NOTE: bad input is reported in one line; anything else is a bug in
    # microgpt and keeps its traceback.
    except (CliError, ValueError, DataError, checkpoint.CheckpointError,
            OSError) as e:
        _error(e)
        return 1
    except ImportError as e:
        _error(f"--impl {args.impl} needs a missing package: {e}")
        return 1
    except KeyboardInterrupt:
        print("microgpt: interrupted", file=sys.stderr)
        return 130
    return 0
