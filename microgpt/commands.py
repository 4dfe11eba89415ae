"""What ``python -m microgpt train`` and ``... sample`` do (see cli)."""

import contextlib
import random
import sys
from dataclasses import replace
from functools import partial

import numpy as np

from . import (
    checkpoint,
    commands_text,
    distributed,
    heap,
    outputs,
    text,
    train,
)
from .config import ModelConfig, SampleConfig, TrainConfig
from .data import Tokenizer, load_docs, resolve_data_path, split_docs
from .options import (
    DEFAULT_EVAL_EVERY,
    MODEL_OPTIONS,
    SAMPLE_OPTIONS,
    TRAIN_OPTIONS,
    CliError,
    flags,
)
from .params import num_params
from .progress import Progress, check_cost, save


def cmd_train(args):
    """Train on names, save, then print the samples; checks come first."""
    with _processes() as rank0:
        cfg, tcfg, scfg = _configs(args)
        fraction, eval_every = _validation(args)
        data = _data_path(args)
        if args.keep_freed_memory:
            _keep_freed_memory()
        if args.text is not None:  # running text: see commands_text
            twin, device = _twin(args)
            return commands_text.train(
                args, data, twin, device, cfg, tcfg, scfg, fraction, eval_every
            )
        twin, device = _twin(args, tcfg.batch_size, rank0)
        docs = load_docs(data)
        # The vocabulary of every document, held-out ones included, so
        # that a character seen only in a held-out one can be encoded.
        tokenizer = Tokenizer.from_docs(docs)
        cfg = replace(cfg, vocab_size=tokenizer.vocab_size)
        train_docs, val_docs = _split(docs, fraction)
        check_cost(args.impl, cfg, tcfg, scfg, train_docs, device)
        _announce(docs, cfg, val_docs)
        rng, train_docs, _ = train.prepare(train_docs, tcfg.seed, tokenizer)
        params = twin.init_params(cfg, rng, **device)
        loop = train.train(twin, params, train_docs, tokenizer, cfg, tcfg)
        held_out = partial(
            train.held_out_loss, twin, params, val_docs, tokenizer, cfg
        )
        # A diverging run's inf and nan end it with train.Diverged's one
        # line; NumPy's warnings about them would only come before it.
        with (
            Progress(tcfg.num_steps, args.log, rank0 is False) as shown,
            np.errstate(all="ignore"),
        ):
            if val_docs:
                shown.held_out(0, held_out())
            for step, loss in loop:
                shown.step(step, loss)
                if val_docs and train.eval_due(
                    step, eval_every, tcfg.num_steps
                ):
                    shown.held_out(step, held_out())
        # Saved before sampling, so that nothing there can lose it.
        if args.save is not None and rank0 is not False:
            save(args.save, twin, params, cfg, tokenizer)
        samples = _sample(twin, params, tokenizer, cfg, rng, scfg)
    _print_samples(samples, scfg)


def cmd_sample(args):
    """Load a checkpoint into the chosen twin and sample from it."""
    scfg = _config(SampleConfig, args, SAMPLE_OPTIONS)
    twin, device = _twin(args)
    weights, cfg, tokenizer = checkpoint.load(args.load)
    params = twin.from_weights(weights, **device)
    if not hasattr(tokenizer, "bos"):  # a model of running text
        return commands_text.sample(args, twin, params, cfg, tokenizer, scfg)
    for flag in ("--sample-length", "--prompt"):
        if getattr(args, flag[2:].replace("-", "_")) is not None:
            raise CliError(
                f"{flag} applies to a model of running text; "
                f"{args.load} samples names"
            )
    rng = random.Random(args.seed)
    _print_samples(_sample(twin, params, tokenizer, cfg, rng, scfg))


def _config(cls, args, *tables):
    """cls from the options in tables; its errors name those options."""
    names = flags(*tables)
    try:
        return cls(**{name: getattr(args, name) for name in names})
    except ValueError as e:
        message = str(e)
        for name, flag in names.items():  # "TrainConfig.num_steps" etc.
            message = message.replace(f"{cls.__name__}.{name}", flag)
        raise CliError(message) from None


def _configs(args):
    """The model, training and sampling configs of the train command."""
    return (
        _config(ModelConfig, args, MODEL_OPTIONS),
        _config(TrainConfig, args, TRAIN_OPTIONS),
        _config(SampleConfig, args, SAMPLE_OPTIONS),
    )


@contextlib.contextmanager
def _processes():
    """A block run by one process (rank0 None) or as one of several.

    Under torchrun (or --nproc), rank0 is True in the first process and
    False in the others, which print nothing; the block's end leaves
    the process group, and a lost process ends it in one line.
    """
    if not distributed.launched():
        yield None
        return
    rank0 = distributed.quiet_unless_rank0()
    try:
        yield rank0
    except RuntimeError as e:  # a collective failed: a process was lost
        raise CliError(
            f"data-parallel training stopped: {distributed.why_stopped(e)}"
        ) from None
    finally:
        distributed.teardown()


def _twin(args, batch_size=None, rank0=None):
    """(twin, device): the --impl twin and where it computes.

    device is {} for the NumPy and scalar twins; for torch it holds the
    device and dtype, chosen here once (from --device and --dtype, or
    torch's defaults), and said on stderr. With rank0 set, the twin is
    torch's, its steps shared by all processes (see distributed).
    """
    device = _device_options(args)
    twin = train.get_twin(args.impl)  # import errors come before output
    if rank0 is not None:
        if args.impl != "torch":
            raise CliError(
                f"data parallelism runs on --impl torch, not {args.impl}"
            )
        twin = distributed.setup(twin, device, args.backend, batch_size)
        device = twin.device_kwargs
    if args.impl != "torch":
        return twin, device
    where = device.get("device") or twin.default_device()
    dtype = device.get("dtype") or twin.default_dtype(where)
    print(
        f"microgpt: torch on {where}, in {str(dtype).split('.')[-1]}",
        file=sys.stderr,
    )
    return twin, {"device": where, "dtype": dtype}


def _device_options(args):
    """torch's device and dtype as --device and --dtype give them."""
    given = [
        f"--{name}"
        for name in ("device", "dtype")
        if getattr(args, name) is not None
    ]
    if not given:
        return {}
    if args.impl != "torch":
        raise CliError(
            f"--impl {args.impl} takes no {' or '.join(given)} (torch only)"
        )
    import torch

    options = {}
    if args.dtype is not None:
        options["dtype"] = getattr(torch, args.dtype)
    if args.device is not None:
        try:
            device = torch.device(args.device)
        except RuntimeError as e:
            raise CliError(f"bad --device {args.device!r}: {e}") from None
        if device.type not in ("cpu", "cuda") or (
            device.type == "cpu" and device.index is not None
        ):
            raise CliError(
                f"--device {args.device}: microgpt runs on cpu, cuda or cuda:N"
            )
        # Checked here, not at the first tensor: torch's own error for
        # a missing GPU surfaces deep inside the model.
        if device.type == "cuda" and not torch.cuda.is_available():
            raise CliError(
                f"--device {args.device}: CUDA is not "
                f"available (this torch is {torch.__version__})"
            )
        if (
            device.type == "cuda"
            and device.index is not None
            and device.index >= torch.cuda.device_count()
        ):
            raise CliError(
                f"--device {args.device}: there are only "
                f"{torch.cuda.device_count()} CUDA devices"
            )
        options["device"] = device
    return options


def _validation(args):
    """(fraction, eval_every) from --val-fraction and --eval-every.

    It checks the text options too (see commands_text), so that every
    option is checked before any file is read.
    """
    commands_text.check_options(args)
    fraction, every = args.val_fraction, args.eval_every
    if not 0 <= fraction < 1:  # also refuses nan
        raise CliError(
            f"--val-fraction must be at least 0 and below 1, got {fraction}"
        )
    if every is not None and every < 0:
        raise CliError(f"--eval-every must be 0 or more steps, got {every}")
    if every is not None and not fraction:
        raise CliError(
            "--eval-every needs --val-fraction: the documents "
            "to measure the loss on"
        )
    return fraction, DEFAULT_EVAL_EVERY if every is None else every


def _split(docs, fraction):
    """(train_docs, val_docs); val_docs is None when nothing is held out."""
    if not fraction:
        return docs, None
    try:
        return split_docs(docs, fraction)
    except ValueError as e:
        raise CliError(f"--val-fraction {fraction}: {e}") from None


def _data_path(args):
    """The --data (or --text) file, checked against the outputs."""
    if args.text is not None:
        path, name = text.resolve_text_path(args.text or None), "--text"
    else:
        path = resolve_data_path(args.data)
        name = "--data" if args.data else "the dataset"
    outputs.check([("--save", args.save), ("--log", args.log)], [(name, path)])
    return path


def _keep_freed_memory():
    """Keep freed memory in the process (see heap), and say so."""
    said = (
        "freed memory is kept for reuse (glibc's mallopt)"
        if heap.keep_freed_memory()
        else "--keep-freed-memory needs glibc; it does nothing here"
    )
    print(f"microgpt: {said}", file=sys.stderr)


def _announce(docs, cfg, val_docs):
    """Print what the run trains on, before the progress bar starts."""
    print(f"num docs: {len(docs)}")
    print(f"vocab size: {cfg.vocab_size}")
    print(f"num params: {num_params(cfg)}")
    if val_docs is not None:
        print(f"held out: {len(val_docs)} docs, never trained on")
    sys.stdout.flush()  # before the progress bar starts on stderr


def _sample(twin, params, tokenizer, cfg, rng, scfg):
    """The names the sampling settings scfg ask for, drawn with rng."""
    return train.sample(
        twin,
        params,
        tokenizer,
        cfg,
        rng,
        scfg.temperature,
        scfg.num_samples,
        top_k=scfg.top_k,
        top_p=scfg.top_p,
    )


def _print_samples(samples, scfg=None):
    """The samples, numbered as in the original, under a header if scfg.

    The header says how they were drawn: the train command prints it, as
    the original does.
    """
    if scfg is not None:
        filters = "".join(
            f", {name} {value}"
            for name, value in (("top-k", scfg.top_k), ("top-p", scfg.top_p))
            if value is not None
        )
        print(
            f"--- {scfg.num_samples} samples at temperature "
            f"{scfg.temperature}{filters} ---"
        )
    # A name may hold characters that stdout cannot encode (an ASCII
    # terminal, a pipe under LANG=C): they are written as escapes, such
    # as \xe9, rather than ending the run.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    for i, name in enumerate(samples, start=1):
        print(f"sample {i:2d}: {name}")
