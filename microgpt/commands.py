"""What ``python -m microgpt train`` and ``... sample`` do (see cli)."""

import json
import os
import random
import sys
from dataclasses import replace

from . import checkpoint, train
from .cli import MODEL_OPTIONS, TRAIN_OPTIONS
from .config import ModelConfig, TrainConfig
from .data import Tokenizer, load_docs
from .heap import keep_freed_memory
from .params import num_params


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
