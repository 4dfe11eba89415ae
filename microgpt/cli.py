"""The command line: ``python -m microgpt train`` and ``... sample``.

Here are the options and main, quick to import: main catches Ctrl-C from
its first line, and the commands (in commands.py) load the libraries.
"""

import argparse
import sys
from dataclasses import fields

from .config import ModelConfig, TrainConfig
from .train import IMPLS

DEFAULT_IMPL = "numpy"  # the original's results, in a fraction of the time
DEFAULT_EVAL_EVERY = 100  # steps between validations, with --val-fraction

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
    ("--top-k", "top_k", "sample from the k likeliest tokens only; None "
     "keeps all"),
    ("--top-p", "top_p", "sample from the fewest likeliest tokens whose "
     "probability reaches p, in (0, 1]; None keeps all"),
    ("--num-samples", "num_samples",
     "names (or, with --text, passages) to sample after training"),
    ("--batch-size", "batch_size",
     "documents (with --text, windows) per step (1 = original), at most "
     "as many as the dataset has; a step of over 1 GFLOP is announced "
     "before training"),
]


def _defaults(cls):
    """Field name -> (default, type) of a config dataclass."""
    # A field whose default is None names its type in its metadata.
    return {f.name: (f.default, f.metadata.get("type", type(f.default)))
            for f in fields(cls)}


def _add_config_options(parser, options, cls):
    """One option per config field, its default and type from cls."""
    defaults = _defaults(cls)
    for flag, name, help_text in options:
        default, kind = defaults[name]
        parser.add_argument(flag, dest=name, type=kind, default=default,
                            help=help_text)


def _add_impl_options(parser):
    """--impl, --device and --dtype, shared by both commands."""
    parser.add_argument("--impl", choices=IMPLS, default=DEFAULT_IMPL,
                        help="implementation: scalar is the original, "
                             "numpy and torch are its fast twins")
    parser.add_argument("--device", default=None,
                        help="torch only: cpu, cuda or cuda:N; None "
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
        description="Train the microgpt GPT on names (or, with --text, "
                    "on running text), or sample from a saved model.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{train,sample}")

    p = commands.add_parser(
        "train", formatter_class=fmt, help="train a model, then sample",
        description="Train on the names dataset and print samples, as the "
                    "original program does; with --text, on running "
                    "text.")
    _add_impl_options(p)
    _add_config_options(p, MODEL_OPTIONS, ModelConfig)
    _add_config_options(p, TRAIN_OPTIONS, TrainConfig)
    p.add_argument("--data", default=None, metavar="PATH",
                   help="your own text file, one document per line; "
                        "None uses $MICROGPT_DATA, the cache, or a "
                        "download of names.txt")
    p.add_argument("--text", nargs="?", const="", default=None,
                   metavar="PATH",
                   help="train on running text instead, on windows of "
                        "--block-size tokens: PATH, or without it "
                        "$MICROGPT_TEXT, the cache, or a download of "
                        "Tiny Shakespeare; --val-fraction holds out its "
                        "end")
    p.add_argument("--tokens", choices=("chars", "bpe"), default=None,
                   help="with --text: one token per character, or "
                        "byte-level BPE learned from the training text; "
                        "None means chars")
    p.add_argument("--vocab-size", type=int, default=None, metavar="N",
                   help="with --tokens bpe: 256 bytes and N - 256 "
                        "merges; None means 512")
    _add_text_sampling(p)
    p.add_argument("--save", default=None, metavar="PATH",
                   help="write the trained model to this .npz "
                        "checkpoint; None saves nothing")
    p.add_argument("--keep-freed-memory", action="store_true",
                   help="keep freed memory in the process (glibc's "
                   "mallopt), so batched NumPy steps reuse their arrays' "
                   "pages instead of faulting them in again; Linux only")
    # --log-file, because torchrun takes --log for a prefix of its own
    # --log-dir and stops; --log still works without torchrun.
    p.add_argument("--log-file", "--log", dest="log", default=None,
                   metavar="PATH",
                   help='write one JSON line per step, {"step": 1, '
                        '"loss": ...}, the loss at full precision (and '
                        'one {"step": ..., "val_loss": ...} per '
                        'validation); None writes no log; --log is its old '
                        'name, which torchrun refuses')
    p.add_argument("--val-fraction", type=float, default=0.0,
                   metavar="F",
                   help="hold out this fraction of the documents (the "
                        "same ones whatever --seed; with --text, the end "
                        "of the text), never trained on, and print the "
                        "loss per token on them; 0 holds out none, as the "
                        "original")
    p.add_argument("--eval-every", type=int, default=None, metavar="N",
                   help="with --val-fraction: measure the held-out loss "
                        "before training, every N steps and after the "
                        "last (0: only before and after); None means "
                        f"{DEFAULT_EVAL_EVERY}")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="torch only: train on N local processes, each "
                        "step's batch split among them (data "
                        "parallelism); under torchrun, leave it out and "
                        "use torchrun's --nproc-per-node")
    p.add_argument("--backend", default=None,
                   help="with --nproc or torchrun: gloo or nccl; None "
                        "picks nccl when each process has a GPU, else "
                        "gloo")

    p = commands.add_parser(
        "sample", formatter_class=fmt, help="sample from a checkpoint",
        description="Sample names (or passages of text, from a text "
                    "model) from a model saved with train --save, with "
                    "any implementation.")
    # SUPPRESS, or the help would show "(default: None)".
    p.add_argument("--load", required=True, metavar="PATH",
                   default=argparse.SUPPRESS,
                   help="the .npz checkpoint to sample from")
    _add_impl_options(p)
    sample_defaults = _defaults(TrainConfig)
    p.add_argument("--num-samples", dest="num_samples", type=int,
                   default=sample_defaults["num_samples"][0],
                   help="how many names (or passages) to sample")
    p.add_argument("--temperature", type=float,
                   default=sample_defaults["temperature"][0],
                   help="sampling temperature (> 0)")
    p.add_argument("--top-k", dest="top_k", type=int, default=None,
                   help="sample from the k likeliest tokens only; None "
                        "keeps all")
    p.add_argument("--top-p", dest="top_p", type=float, default=None,
                   help="sample from the fewest likeliest tokens whose "
                        "probability reaches p, in (0, 1]; None keeps all")
    p.add_argument("--seed", type=int, default=sample_defaults["seed"][0],
                   help="seed of the sampling random stream")
    _add_text_sampling(p)
    return parser


def _add_text_sampling(parser):
    """--sample-length and --prompt, for models of running text."""
    parser.add_argument("--sample-length", type=int, default=None,
                        metavar="N",
                        help="running text only: tokens per sample; "
                             "None means 200")
    parser.add_argument("--prompt", default=None,
                        help="running text only: the text each sample "
                             "continues; None means a line break")


def _error(message):
    """Report bad input on one line of stderr."""
    message = str(message).replace("\n", " ")
    print(f"microgpt: error: {message}", file=sys.stderr)


def main(argv=None):
    """Run one command; returns the exit status."""
    # From the first line, so that Ctrl-C while the libraries load
    # or the data is read ends in one line too, never a traceback.
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("microgpt: interrupted", file=sys.stderr)
        return 130


def _main(argv):
    """main, but for Ctrl-C."""
    args = build_parser().parse_args(argv)  # usage errors exit with 2
    if args.command == "train" and args.nproc != 1:
        from . import distributed
        if not distributed.launched():  # it starts the processes itself
            problem = distributed.check_launch(args)
            if problem:
                _error(problem)
                return 1
            return distributed.launch(
                sys.argv[1:] if argv is None else list(argv), args.nproc)
    from . import commands  # numpy and the rest load here
    from .checkpoint import CheckpointError
    from .data import DataError
    command = commands.cmd_train if args.command == "train" \
        else commands.cmd_sample
    try:
        command(args)
    # Bad input is reported in one line; anything else is a bug in
    # microgpt and keeps its traceback.
    except (commands.CliError, ValueError, DataError, CheckpointError,
            OSError) as e:
        _error(e)
        return 1
    except MemoryError as e:  # the estimate was short: still one line
        _error(f"out of memory ({e or 'no details'}); make the model, "
               f"--batch-size or --num-samples smaller")
        return 1
    except ImportError as e:
        _error(f"--impl {args.impl} needs a missing package: {e}")
        return 1
    return 0
