"""The command line: ``python -m microgpt train`` and ``... sample``.

Here are the parser and main, quick to import: main catches Ctrl-C from
its first line, and the commands (in commands.py) load the libraries.
The option tables and defaults live in options.py, which the commands
read too.
"""

import argparse
import os
import sys

from .config import ModelConfig, SampleConfig, TrainConfig
from .options import (
    DEFAULT_EVAL_EVERY,
    DEFAULT_IMPL,
    MODEL_OPTIONS,
    SAMPLE_OPTIONS,
    TRAIN_OPTIONS,
    CliError,
    defaults,
)
from .train import TWINS


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default after its help, unless it has none.

    An option whose default is None says in its help what leaving it
    out does, so "(default: None)" would add nothing a user can type.
    """

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def _add_config_options(parser, options, cls):
    """One option per config field, its default and type from cls."""
    fields = defaults(cls)
    for flag, name, help_text in options:
        default, kind = fields[name]
        parser.add_argument(
            flag, dest=name, type=kind, default=default, help=help_text
        )


def _add_impl_options(parser):
    """--impl, --device and --dtype, shared by both commands."""
    parser.add_argument(
        "--impl",
        choices=TWINS,
        default=DEFAULT_IMPL,
        help="the twin to run: scalar is the original, numpy and "
        "torch are its fast twins",
    )
    parser.add_argument(
        "--device",
        default=None,
        help="torch only: cpu, cuda or cuda:N (by default cuda if "
        "available, else cpu)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default=None,
        help="torch only (by default float64 on the CPU, for parity "
        "with scalar, and float32 on a GPU)",
    )


def build_parser():
    """The argument parser of both commands."""
    fmt = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="microgpt",
        formatter_class=fmt,
        description="Train the microgpt GPT on names (or, with --text, "
        "on running text), or sample from a saved model.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{train,sample}"
    )

    p = commands.add_parser(
        "train",
        formatter_class=fmt,
        help="train a model, then sample",
        description="Train on the names dataset and print samples, as the "
        "original program does; with --text, on running "
        "text.",
    )
    _add_impl_options(p)
    _add_config_options(p, MODEL_OPTIONS, ModelConfig)
    _add_config_options(p, TRAIN_OPTIONS, TrainConfig)
    _add_config_options(p, SAMPLE_OPTIONS, SampleConfig)
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own text file, one document per line (by default "
        "$MICROGPT_DATA, the cache, or a download of names.txt)",
    )
    p.add_argument(
        "--text",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="train on running text instead, on windows of "
        "--block-size tokens: PATH, or without it "
        "$MICROGPT_TEXT, the cache, or a download of "
        "Tiny Shakespeare; --val-fraction holds out its "
        "end",
    )
    p.add_argument(
        "--tokens",
        choices=("chars", "bpe"),
        default=None,
        help="with --text: one token per character, or "
        "byte-level BPE learned from the training text (by default "
        "chars)",
    )
    p.add_argument(
        "--vocab-size",
        type=int,
        default=None,
        metavar="N",
        help="with --tokens bpe: 256 bytes and N - 256 merges (by "
        "default 512)",
    )
    _add_text_sampling(p)
    p.add_argument(
        "--save",
        default=None,
        metavar="PATH",
        help="write the trained model to this .npz checkpoint (by "
        "default nothing is saved)",
    )
    p.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="keep freed memory in the process (glibc's "
        "mallopt), so batched NumPy steps reuse their arrays' "
        "pages instead of faulting them in again; Linux only",
    )
    # --log-file, because torchrun takes --log for a prefix of its own
    # --log-dir and stops; --log still works without torchrun.
    p.add_argument(
        "--log-file",
        "--log",
        dest="log",
        default=None,
        metavar="PATH",
        help='write one JSON line per step, {"step": 1, '
        '"loss": ...}, the loss at full precision (and '
        'one {"step": ..., "val_loss": ...} per '
        "validation); by default no log is written; --log is its old "
        "name, which torchrun refuses",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="hold out this fraction of the documents (the "
        "same ones whatever --seed; with --text, the end "
        "of the text), never trained on, and print the "
        "loss per token on them; 0 holds out none, as the "
        "original",
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=None,
        metavar="N",
        help="with --val-fraction: measure the held-out loss "
        "before training, every N steps and after the "
        "last (0: only before and after; by default "
        f"{DEFAULT_EVAL_EVERY})",
    )
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="torch only: train on N local processes, each "
        "step's batch split among them (data "
        "parallelism); under torchrun, leave it out and "
        "use torchrun's --nproc-per-node",
    )
    p.add_argument(
        "--backend",
        default=None,
        help="with --nproc or torchrun: gloo or nccl (by default nccl "
        "when each process has a GPU, else gloo)",
    )

    p = commands.add_parser(
        "sample",
        formatter_class=fmt,
        help="sample from a checkpoint",
        description="Sample names (or passages of text, from a text "
        "model) from a model saved with train --save, with "
        "any twin.",
    )
    p.add_argument(
        "--load",
        required=True,
        metavar="PATH",
        help="the .npz checkpoint to sample from",
    )
    _add_impl_options(p)
    _add_config_options(p, SAMPLE_OPTIONS, SampleConfig)
    p.add_argument(
        "--seed",
        type=int,
        default=defaults(TrainConfig)["seed"][0],
        help="seed of the sampling random stream",
    )
    _add_text_sampling(p)
    return parser


def _add_text_sampling(parser):
    """--sample-length and --prompt, for models of running text."""
    parser.add_argument(
        "--sample-length",
        type=int,
        default=None,
        metavar="N",
        help="running text only: tokens per sample (by default 200)",
    )
    parser.add_argument(
        "--prompt",
        default=None,
        help="running text only: the text each sample continues (by "
        "default a line break)",
    )


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
                main, sys.argv[1:] if argv is None else list(argv), args.nproc
            )
    from . import commands  # numpy and the rest load here

    command = (
        commands.cmd_train if args.command == "train" else commands.cmd_sample
    )
    try:
        command(args)
    # Bad input is reported in one line; anything else is a bug in
    # microgpt and keeps its traceback.
    except user_errors() as e:
        _error(e)
        return 1
    except OSError as e:
        if not _about_a_users_file(e, args):
            raise
        _error(e)
        return 1
    except MemoryError as e:  # the estimate was short: still one line
        _error(
            f"out of memory ({e or 'no details'}); make the model, "
            f"--batch-size or --num-samples smaller"
        )
        return 1
    except ImportError as e:
        _error(f"--impl {args.impl} needs a missing package: {e}")
        return 1
    return 0


def user_errors():
    """The package's own error types for bad input, which main reports.

    Each names what is wrong with the input (an option, a file, the
    data) in its message; any other exception is a bug in microgpt.
    """
    from .checkpoint import CheckpointError
    from .data import DataError
    from .distributed import DistributedError
    from .outputs import OutputError
    from .train import Diverged

    return (
        CliError,
        CheckpointError,
        DataError,
        DistributedError,
        OutputError,
        Diverged,
    )


def _about_a_users_file(error, args):
    """True if error is about a file the user named, or one we write.

    Those are the paths of --data, --text, --save, --log and --load (or
    $MICROGPT_DATA and $MICROGPT_TEXT), and outputs.WriteError, which
    the writes of those outputs raise.
    """
    from .outputs import WriteError

    if isinstance(error, WriteError):
        return True
    named = [
        getattr(args, name, None)
        for name in ("data", "text", "save", "log", "load")
    ]
    named += [
        os.environ.get(var) for var in ("MICROGPT_DATA", "MICROGPT_TEXT")
    ]
    paths = {os.path.abspath(p) for p in named if p}
    filename = error.filename
    return (
        isinstance(filename, (str, os.PathLike))
        and os.path.abspath(filename) in paths
    )
