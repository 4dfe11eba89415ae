"""What ``python -m microgpt train`` and ``... sample`` do (see cli)."""

import json
import random
import sys
from dataclasses import replace

import numpy as np

from . import checkpoint, commands_text, cost, outputs, train
from .cli import DEFAULT_EVAL_EVERY, MODEL_OPTIONS, TRAIN_OPTIONS
from .config import ModelConfig, TrainConfig
from .data import Tokenizer, load_docs, resolve_data_path, split_docs


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
        if device.type not in ("cpu", "cuda") or device.type == "cpu" \
                and device.index is not None:
            raise CliError(f"--device {args.device}: microgpt runs on "
                           f"cpu, cuda or cuda:N")
        # Checked here, not at the first tensor: torch's own error
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


def _validation(args):
    """(fraction, eval_every) from --val-fraction and --eval-every."""
    fraction, every = args.val_fraction, args.eval_every
    if not 0 <= fraction < 1:  # also refuses nan
        raise CliError(f"--val-fraction must be at least 0 and below 1, "
                       f"got {fraction}")
    if every is not None and every < 0:
        raise CliError(f"--eval-every must be 0 or more steps, got "
                       f"{every}")
    if every is not None and not fraction:
        raise CliError("--eval-every needs --val-fraction: the documents "
                       "to measure the loss on")
    return fraction, DEFAULT_EVAL_EVERY if every is None else every


def _split(docs, fraction):
    """(train_docs, val_docs); val_docs is None when nothing is held out."""
    if not fraction:
        return docs, None
    try:
        return split_docs(docs, fraction)
    except ValueError as e:
        raise CliError(f"--val-fraction {fraction}: {e}") from None


def _say_where(impl, impl_kwargs):
    """One line on stderr: the device and dtype torch computes in."""
    device = impl_kwargs.get("device") or impl.default_device()
    dtype = impl_kwargs.get("dtype") or impl.default_dtype(device)
    print(f"microgpt: torch on {device}, in {str(dtype).split('.')[-1]}",
          file=sys.stderr)


def _print_samples(samples):
    """The samples, numbered as in the original."""
    # A name may hold characters that stdout cannot encode (an ASCII
    # terminal, a pipe under LANG=C): they are written as escapes, such
    # as \xe9, rather than ending the run.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    for i, name in enumerate(samples, start=1):
        print(f"sample {i:2d}: {name}")


def cmd_train(args):
    """Check everything first; train, save, then print the samples."""
    from . import distributed
    if not distributed.launched():
        return _train(args, None)
    rank0 = distributed.quiet_unless_rank0()
    try:
        return _train(args, rank0)
    except RuntimeError as e:  # a collective failed: a process was lost
        raise CliError(f"data-parallel training stopped: "
                       f"{distributed.first_line(e)}") from None
    finally:
        distributed.teardown()


def _train(args, rank0):
    """cmd_train in one process (rank0 None) or as one of several."""
    flags = {name: flag for flag, name, _ in MODEL_OPTIONS + TRAIN_OPTIONS}
    cfg = _config(ModelConfig, flags, **{name: getattr(args, name)
                                          for _, name, _ in MODEL_OPTIONS})
    tcfg = _config(TrainConfig, flags, **{name: getattr(args, name)
                                          for _, name, _ in TRAIN_OPTIONS})
    impl_kwargs = _impl_kwargs(args)
    fraction, eval_every = _validation(args)
    commands_text.check_options(args, CliError)
    if args.text is not None and rank0 is not None:
        raise CliError("data parallelism trains on names; --text runs in "
                       "one process")
    if args.text is not None:  # running text: see commands_text
        return commands_text.train(args, cfg, tcfg, impl_kwargs, fraction,
                                   eval_every, _say_where)
    data = resolve_data_path(args.data)
    outputs.check([("--save", args.save), ("--log", args.log)],
                  [("--data" if args.data else "the dataset", data)])
    impl = train.get_impl(args.impl)  # import errors come before output
    run_impl = args.impl
    if rank0 is not None:
        if args.impl != "torch":
            raise CliError(f"data parallelism runs on --impl torch, not "
                           f"{args.impl}")
        from .distributed import setup
        run_impl = setup(impl, impl_kwargs, args.backend, tcfg.batch_size)
        impl_kwargs = run_impl.device_kwargs
    docs = load_docs(data)
    cfg = replace(cfg, vocab_size=Tokenizer.from_docs(docs).vocab_size)
    train_docs, val_docs = _split(docs, fraction)
    device, itemsize = None, 8  # where the model lives, and its floats
    if args.impl == "torch":
        device = impl_kwargs.get("device") or impl.default_device()
        itemsize = (impl_kwargs.get("dtype")
                    or impl.default_dtype(device)).itemsize
    if args.impl == "torch":
        _say_where(impl, impl_kwargs)
    note = cost.check_run(args.impl, cfg, tcfg, train_docs, device,
                          itemsize)
    if note:
        print(f"microgpt: note: {note}", file=sys.stderr)
    print(f"num docs: {len(docs)}")
    print(f"vocab size: {cfg.vocab_size}")
    print(f"num params: {cost.num_params(cfg)}")
    if val_docs is not None:
        print(f"held out: {len(val_docs)} docs, never trained on")
    sys.stdout.flush()  # before the progress bar starts on stderr
    if args.keep_freed_memory:
        from .bench.heap import keep_freed_memory
        said = ("freed memory is kept for reuse (glibc's mallopt)"
                if keep_freed_memory() else
                "--keep-freed-memory needs glibc; it does nothing here")
        print(f"microgpt: {said}", file=sys.stderr)

    from tqdm import tqdm

    log = None if args.log is None or rank0 is False \
        else outputs.LineLog("--log", args.log)
    bar = tqdm(total=tcfg.num_steps, unit="step", file=sys.stderr,
               dynamic_ncols=True)

    def on_step(step, loss):
        loss = float(loss)
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)
        if log is not None:
            log.write(json.dumps({"step": step, "loss": loss}))

    def on_eval(step, loss):
        # Through the bar, which clears itself around the line
        bar.write(f"step {step:{len(str(tcfg.num_steps))}d}: held-out "
                  f"loss {loss:.4f}", file=sys.stdout)
        sys.stdout.flush()
        if log is not None:
            log.write(json.dumps({"step": step, "val_loss": float(loss)}))

    def on_trained(params, tokenizer, cfg):
        bar.close()
        # Saved before sampling, so that nothing there can lose it.
        if args.save is not None and rank0 is not False:
            checkpoint.save(args.save, impl.to_weights(params), cfg,
                            tokenizer)
            print(f"microgpt: saved the model to {args.save}",
                  file=sys.stderr)

    try:
        # A diverging run's inf and nan end it with train's one
        # line; NumPy's warnings about them would only come before it.
        with np.errstate(all="ignore"):
            result = train.run(run_impl, train_docs, cfg, tcfg,
                               on_step=on_step, on_trained=on_trained,
                               val_docs=val_docs, eval_every=eval_every,
                               on_eval=on_eval, **impl_kwargs)
    finally:
        bar.close()
        if log is not None:
            log.close()
    filters = "".join(f", {name} {value}" for name, value in (
        ("top-k", tcfg.top_k), ("top-p", tcfg.top_p)) if value is not None)
    print(f"--- {tcfg.num_samples} samples at temperature "
          f"{tcfg.temperature}{filters} ---")
    _print_samples(result.samples)


def cmd_sample(args):
    """Load a checkpoint into the chosen implementation and sample."""
    # TrainConfig validates --num-samples, --temperature, --seed and
    # the filters --top-k and --top-p.
    tcfg = _config(TrainConfig, {"num_samples": "--num-samples",
                                 "temperature": "--temperature",
                                 "seed": "--seed", "top_k": "--top-k",
                                 "top_p": "--top-p"},
                   num_samples=args.num_samples,
                   temperature=args.temperature, seed=args.seed,
                   top_k=args.top_k, top_p=args.top_p)
    impl_kwargs = _impl_kwargs(args)
    weights, cfg, tokenizer = checkpoint.load(args.load)
    impl = train.get_impl(args.impl)
    if args.impl == "torch":
        _say_where(impl, impl_kwargs)
    params = impl.from_weights(weights, **impl_kwargs)
    if not hasattr(tokenizer, "bos"):  # a model of running text
        return commands_text.sample(args, impl, params, cfg, tokenizer,
                                    tcfg)
    for flag in ("--sample-length", "--prompt"):
        if getattr(args, flag[2:].replace("-", "_")) is not None:
            raise CliError(f"{flag} applies to a model of running text; "
                           f"{args.load} samples names")
    rng = random.Random(tcfg.seed)
    _print_samples(train.sample(impl, params, tokenizer, cfg, rng,
                                tcfg.temperature, tcfg.num_samples,
                                top_k=tcfg.top_k, top_p=tcfg.top_p))
