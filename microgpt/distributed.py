"""Data-parallel training of the torch twin on torch.distributed.

Every process holds the whole model and reads the whole batch of B
documents, but computes the loss and gradients of its own share only.
The shares are contiguous: with N processes, process r takes documents
r * (B // N) + min(r, B % N) onwards, the first B % N processes one more
than the rest, so B need not divide by N. Each process divides the sum
of its losses by the total number of predicted tokens of all the shares
(an all-reduce of the counts), and one all-reduce sums the gradients:
every process then holds the gradient of the whole batch's mean loss,
the one a single process computes with --batch-size B, and takes the
same Adam step.

torchrun launches the processes and names each one in the environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); ``microgpt
train --nproc N`` starts N local ones itself through launch, which sets
the same variables. The communication is torch.distributed's: gloo on
the CPU, NCCL when each process has a GPU of its own. Only the process
of rank 0 prints, samples and writes the log and checkpoint.
"""

import datetime
import gc
import io
import os
import signal
import socket
import sys
import tempfile

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
BACKENDS = ("gloo", "nccl")
# Seconds any process waits for the others (to join, or in a step)
# before it gives up: a lost process ends the run instead of hanging it.
DEFAULT_TIMEOUT = 120


class DistributedError(ValueError):
    """A data-parallel run cannot start or go on."""


def quiet_cpp_logs():
    """Keep PyTorch's C++ log lines off stderr in the processes to come.

    PyTorch 2.2's C++ sockets log a port already in use on stderr, in
    three lines, before torch raises the error that microgpt turns into
    one line (2.13 only raises it). The level is read as torch is
    imported, so it holds for the processes started after this; a level
    the user set is kept.
    """
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "FATAL")


def launched(environ=None):
    """True in a process that torchrun (or launch) started."""
    environ = os.environ if environ is None else environ
    return all(name in environ for name in ENV)


def shard(batch_size, rank, world_size):
    """(start, stop) of process rank's documents in a batch of batch_size.

    The first batch_size % world_size processes take one document more.
    """
    if world_size > batch_size:
        raise DistributedError(
            f"{world_size} processes need at least {world_size} documents "
            f"per step, one each; --batch-size is {batch_size}"
        )
    size, extra = divmod(batch_size, world_size)
    start = rank * size + min(rank, extra)
    return start, start + size + (rank < extra)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timeout_seconds(environ=None):
    """How long a process waits for the others: $MICROGPT_DIST_TIMEOUT."""
    environ = os.environ if environ is None else environ
    text = environ.get("MICROGPT_DIST_TIMEOUT", str(DEFAULT_TIMEOUT))
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise DistributedError(
            f"MICROGPT_DIST_TIMEOUT must be a number of "
            f"seconds above 0, got {text!r}"
        )
    return seconds


def check_launch(args):
    """What is wrong with train's --nproc and --backend, or None."""
    if args.nproc < 1:
        return f"--nproc must be 1 or more processes, got {args.nproc}"
    if args.impl != "torch":
        return f"--nproc runs on --impl torch, not {args.impl}"
    if args.text is not None:
        return "--nproc trains on names; --text runs in one process"
    if args.nproc > args.batch_size:
        return (
            f"--nproc {args.nproc} needs at least {args.nproc} "
            f"documents per step, one each; --batch-size is "
            f"{args.batch_size}"
        )
    if args.backend is not None and args.backend not in BACKENDS:
        return (
            f"--backend {args.backend}: microgpt runs on "
            f"{' or '.join(BACKENDS)}"
        )
    return None


def quiet_unless_rank0():
    """True on rank 0; elsewhere False, stdout and stderr silenced.

    A process that launch started has silenced itself already. Under
    torchrun every process writes its error line to torch's elastic
    error file, so that torchrun's report names it as the cause, and
    the first process of the run to fail prints it (see first_to_say);
    microgpt.distributed_run prints it itself instead.
    """
    rank0 = os.environ["RANK"] == "0"
    if "MICROGPT_SPAWNED" in os.environ:
        return rank0
    if not rank0:
        sys.stdout = open(os.devnull, "w")
    show = "MICROGPT_ONE_ERROR_LINE" not in os.environ and first_to_say
    sys.stderr = ErrorLines(
        sys.stderr,
        show=show,
        error_file=os.environ.get("TORCHELASTIC_ERROR_FILE"),
        quiet=not rank0,
    )
    if show:
        signal.signal(signal.SIGTERM, _stopped)
    return rank0


def first_to_say():
    """True in the first process of a torchrun run to ask, else False.

    The store that torchrun keeps for the run's processes, at
    MASTER_ADDR:MASTER_PORT, counts the askers, so that one line is
    printed however many processes fail. Where it cannot be reached,
    rank 0 is the one.
    """
    import torch.distributed as dist

    try:
        store = dist.TCPStore(
            os.environ["MASTER_ADDR"],
            int(os.environ["MASTER_PORT"]),
            is_master=False,
            timeout=datetime.timedelta(seconds=5),
        )
        # One count for each attempt, as torchrun --max-restarts makes.
        attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        return store.add(f"microgpt_error_said_{attempt}", 1) == 1
    except Exception:  # noqa: BLE001 (torch raises many kinds)
        return os.environ.get("RANK") == "0"


def _stopped(signum, frame):
    """On torchrun's SIGTERM: one line, if no process has said why yet.

    torchrun ends the other processes when one fails. When the one that
    failed could say nothing (a signal killed it), the first process to
    be stopped says so; torchrun's report names the first failure.
    """
    held = sys.stderr
    if isinstance(held, ErrorLines) and not held.held and first_to_say():
        held.stream.write(
            f"\n{PREFIX}torchrun stopped this run because another "
            f"process failed; its report names the first failure\n"
        )
        held.stream.flush()
    # Then end as the signal would have: torchrun reads the status.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def choose_backend(backend, device):
    """The backend name: gloo for the CPU, nccl for CUDA, or as asked."""
    import torch.distributed as dist

    if backend is None:
        backend = "nccl" if device.type == "cuda" else "gloo"
    if backend not in BACKENDS:
        raise DistributedError(
            f"--backend {backend}: microgpt runs on {' or '.join(BACKENDS)}"
        )
    if backend == "nccl" and device.type != "cuda":
        raise DistributedError(
            f"--backend nccl needs each process on a "
            f"GPU; this one computes on {device}"
        )
    if not dist.is_backend_available(backend):
        raise DistributedError(
            f"--backend {backend} is not available in this torch build"
        )
    return backend


def first_line(error):
    """The first line of an exception's message, for a one-line report."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# How gloo reports that the process at the other end of a connection is
# gone: it died, or torchrun stopped it.
LOST_PEER = ("Connection reset by peer", "Connection closed by peer")


def why_stopped(error):
    """Why a collective failed, in words for a one-line report.

    A process that another one's death left waiting sees its connection
    close; it says so, rather than quote gloo's transport error.
    """
    if any(lost in str(error) for lost in LOST_PEER):
        return "another process failed or was killed (its connection closed)"
    return first_line(error)


class DataParallel:
    """The torch twin with each training step shared by all processes.

    It stands in for the gpt_torch module in train.run: every attribute
    is the module's but the steps (which split the batch), the fresh
    parameters (on this process's device) and generate (rank 0 only).
    """

    def __init__(self, twin, rank, world_size, device_kwargs):
        self.twin = twin
        self.rank, self.world_size = rank, world_size
        self.device_kwargs = device_kwargs

    def __getattr__(self, name):
        return getattr(self.twin, name)

    def init_params(self, cfg, rng, **kwargs):
        """Every process draws the same model from the same stream."""
        return self.twin.init_params(
            cfg, rng, **{**self.device_kwargs, **kwargs}
        )

    def train_step(self, params, opt, batch, lr, cfg):
        """One step on this process's share; returns the batch's loss."""
        return step(
            self.twin, params, opt, batch, lr, cfg, self.rank, self.world_size
        )

    def generate(self, params, cfg, rng, temperature, **filters):
        """A sample on rank 0; elsewhere an empty one, drawing nothing."""
        if self.rank != 0:
            return []
        return self.twin.generate(params, cfg, rng, temperature, **filters)


def local_loss_sum(twin, params, docs, cfg):
    """(sum of the losses of docs' predictions, how many there are)."""
    # As batch_loss cuts them: a document predicts at most block_size.
    count = sum(min(cfg.block_size, len(tokens) - 1) for tokens in docs)
    return twin.batch_loss(params, docs, cfg) * count, count


def step(twin, params, opt, batch, lr, cfg, rank, world_size):
    """One data-parallel Adam step; returns the whole batch's mean loss."""
    import torch
    import torch.distributed as dist

    start, stop = shard(len(batch), rank, world_size)
    loss_sum, count = local_loss_sum(twin, params, batch[start:stop], cfg)
    device = params["wte"].device
    # Every process learns the total number of predicted tokens.
    total = torch.tensor([count], dtype=torch.int64, device=device)
    dist.all_reduce(total)
    loss = loss_sum / int(total.item())  # this share's part of the mean
    loss.backward()
    tensors = list(params.values())
    # One flat bucket: every gradient, then the loss, in one all-reduce.
    flat = torch.cat(
        [p.grad.reshape(-1) for p in tensors] + [loss.detach().reshape(1)]
    )  # (n + 1,)
    dist.all_reduce(flat)  # the sum over the processes
    offset = 0
    for p in tensors:
        p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
        offset += p.numel()
    opt.step(lr)
    return flat[-1].item()


def setup(twin, twin_kwargs, backend, batch_size):
    """Join the process group; returns a DataParallel for train.run.

    Raises DistributedError when the run cannot start.
    """
    import torch
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    shard(batch_size, rank, world_size)  # enough documents for everyone
    kwargs = dict(twin_kwargs)
    device = kwargs.get("device")
    if device is None:
        # A GPU of its own for each process on a machine, when there
        # are GPUs; else the CPU.
        device = (
            torch.device(f"cuda:{local_rank}")
            if torch.cuda.is_available()
            else torch.device("cpu")
        )
        kwargs["device"] = device
        gpus = torch.cuda.device_count()
        if device.type == "cuda" and local_rank >= gpus:
            raise DistributedError(
                f"process {local_rank} on this machine has no GPU of its "
                f"own: there are {gpus}; start at most {gpus} processes "
                f"a machine, or pass --device cpu"
            )
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = choose_backend(backend, device)
    seconds = timeout_seconds()
    try:
        dist.init_process_group(
            backend, timeout=datetime.timedelta(seconds=seconds)
        )
    except Exception as e:  # noqa: BLE001 (torch raises many kinds)
        where = (
            f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}"
        )
        if "EADDRINUSE" in str(e) or "already in use" in str(e):
            raise DistributedError(
                f"port {where} is already in use; choose a free "
                f"MASTER_PORT (or torchrun --master-port)"
            ) from None
        raise DistributedError(
            f"rank {rank} could not join the other "
            f"{world_size - 1} processes at {where} "
            f"within {seconds:g} s: "
            f"{first_line(e)}"
        ) from None
    return DataParallel(twin, rank, world_size, kwargs)


def teardown():
    """Leave the process group, if this process joined one."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    # Before PyTorch 2.8, the group's destructor waits for gloo's worker
    # threads while it holds the GIL, and a worker that drops the last
    # collective's tensor waits for the GIL: the process never ends.
    # Holding gloo's own object keeps it alive past the group; its
    # destructor, run afterwards, releases the GIL while its threads stop.
    try:
        gloo = dist.group.WORLD._get_backend(torch.device("cpu"))
    except RuntimeError:  # a group without gloo (NCCL alone)
        gloo = None
    dist.destroy_process_group()
    del gloo


PREFIX = "microgpt: error: "


class ErrorLines(io.TextIOBase):
    """A stream that passes text on and notes 'microgpt: error' lines.

    quiet keeps all but the error lines from the stream. show says
    whether an error line goes on to it: True, False (a worker's line is
    then its launcher's to print, which alone knows which process failed
    first), or a function asked at each error line. With an error_file,
    each error is also written there in the form of torch's elastic
    error files, which torchrun reads to name the failure's cause.
    """

    def __init__(self, stream, show=False, error_file=None, quiet=False):
        self.stream, self.show, self.error_file = stream, show, error_file
        self.quiet, self.held = quiet, []
        self.holding = self.showing = False

    def write(self, text):
        error = text.startswith(PREFIX)
        if error:
            self.held.append(text)
            if self.error_file:
                write_error_file(self.error_file, text[len(PREFIX) :])
            show = self.show() if callable(self.show) else self.show
            self.showing = bool(show)
        elif not (self.holding and text == "\n"):
            self.showing = not self.quiet
        # (print writes an error line's line break on its own, just after
        # it, and the break follows the line.)
        self.holding = error
        if self.showing and self.stream is not None:
            self.stream.write(text)
        return len(text)

    def flush(self):
        if self.stream is not None:
            self.stream.flush()


def write_error_file(path, message):
    """Write message where torchrun looks for a process's failure."""
    import json
    import time

    data = {
        "message": {
            "message": message,
            "extraInfo": {
                "py_callstack": message,
                "timestamp": str(int(time.time())),
            },
        }
    }
    with open(path, "w") as f:
        json.dump(data, f)


def _spawned(local_rank, main, argv, world_size, port, errors):
    """One worker of launch: main(argv) with torchrun's variables."""
    os.environ.update(
        MICROGPT_SPAWNED="1",
        RANK=str(local_rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        OMP_NUM_THREADS="1",
    )
    import threading

    import torch
    from tqdm import tqdm

    torch.set_num_threads(1)  # as torchrun: one thread per process
    # A thread lock for the progress bar: tqdm's default one is a
    # semaphore that a process ended by launch would leave behind.
    tqdm.set_lock(threading.RLock())
    # Only rank 0 prints; the others keep quiet.
    sys.stderr = held = ErrorLines(sys.stderr if local_rank == 0 else None)
    if local_rank != 0:
        sys.stdout = open(os.devnull, "w")
    code = main(argv)
    if held.held:
        with open(os.path.join(errors, str(local_rank)), "w") as f:
            f.write(held.held[-1].strip())
    sys.stdout.flush()
    sys.exit(code)


def launch(main, argv, nproc):
    """Run main(argv) in nproc local processes; returns the exit status.

    main is the command line's entry point, passed in so that this
    module, which the commands use, never imports the command line.

    Rank 0 prints as one process would. When any process fails, the
    others are ended and one line says why.
    """
    import logging

    import torch.multiprocessing as mp

    # Its warning as it ends the other processes would be a second line.
    logging.getLogger("torch.multiprocessing.spawn").setLevel(logging.ERROR)
    quiet_cpp_logs()
    port = int(os.environ.get("MASTER_PORT") or free_port())
    with tempfile.TemporaryDirectory(prefix="microgpt-dist-") as errors:
        context = mp.start_processes(
            _spawned,
            args=(main, argv, nproc, port, errors),
            nprocs=nproc,
            join=False,
            start_method="spawn",
        )
        try:
            while not context.join(timeout=1):
                pass
            return 0
        except (mp.ProcessExitedException, mp.ProcessRaisedException) as e:
            return _report(e, context, nproc, errors)
        finally:
            # Its queues' semaphores are freed now, not reported leaked.
            del context
            gc.collect()


def _report(e, context, nproc, errors):
    """The exit status of a failed launch, its one line said."""
    import torch.multiprocessing as mp

    def said(rank):
        path = os.path.join(errors, str(rank))
        if os.path.exists(path):
            with open(path) as f:
                return f.read()
        return None

    # join has ended the other processes already. The line of the
    # process that failed first is the cause; the others' follow from it.
    line = said(e.error_index)
    if line is None and isinstance(e, mp.ProcessExitedException):
        how = (
            f"signal {-e.exit_code}"
            if e.exit_code < 0
            else f"exit status {e.exit_code}"
        )
        line = (
            f"microgpt: error: worker process {e.error_index} ended "
            f"with {how}; the others were stopped"
        )
    if line is None:
        line = (
            f"microgpt: error: worker process {e.error_index} failed: "
            f"{first_line(e)}"
        )
    # A progress bar that rank 0 was drawing may be cut mid-line.
    print(f"\n{line}", file=sys.stderr)
    return 1


# -- the chapter's experiments, run in processes that spawn starts -----------


def spawn(name, nproc, **kwargs):
    """Run experiment name in nproc fresh processes; rank 0's result.

    The processes meet over gloo on 127.0.0.1, one thread each. The
    functions live here, in the package, so that spawn can start them
    from a notebook too.
    """
    import json

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="microgpt-dist-") as folder:
        out = os.path.join(folder, "result.json")
        mp.start_processes(
            _experiment,
            args=(name, nproc, free_port(), out, kwargs),
            nprocs=nproc,
            join=True,
            start_method="spawn",
        )
        with open(out) as f:
            return json.load(f)


def _experiment(rank, name, nproc, port, out, kwargs):
    """One process of spawn: join the group, run name, rank 0 saves."""
    import json

    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(
        "gloo",
        rank=rank,
        world_size=nproc,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        result = EXPERIMENTS[name](rank, nproc, **kwargs)
        if rank == 0:
            with open(out, "w") as f:
                json.dump(result, f)
    finally:
        teardown()


def allreduce_sum(rank, nproc, values):
    """Each process offers values[rank]; all-reduce gives each the sum."""
    import torch
    import torch.distributed as dist

    mine = torch.tensor(values[rank], dtype=torch.float64)
    dist.all_reduce(mine)  # in place: every process now holds the sum
    gathered = [torch.zeros_like(mine) for _ in range(nproc)]
    dist.all_gather(gathered, mine)  # to show that all of them agree
    return {"sums": [g.tolist() for g in gathered]}


def _setup_run(batch_size, seed=42):
    """(twin, params, batches function, cfg) of a names run, as train."""
    from dataclasses import replace

    from . import gpt_torch
    from .config import ModelConfig
    from .data import load_docs
    from .train import prepare

    rng, docs, tokenizer = prepare(load_docs(), seed)
    cfg = replace(ModelConfig(), vocab_size=tokenizer.vocab_size)
    params = gpt_torch.init_params(cfg, rng, device="cpu")

    def batch(step):
        return [
            tokenizer.frame(docs[(step * batch_size + b) % len(docs)])
            for b in range(batch_size)
        ]

    return gpt_torch, params, batch, cfg


class _Module:
    """The twin's parameters as a torch Module, for DDP to wrap."""

    @staticmethod
    def make(params):
        import torch

        class Twin(torch.nn.Module):
            def __init__(self):
                super().__init__()
                # A parameter's name may not hold a dot in a Module.
                self.p = torch.nn.ParameterDict(
                    {
                        name.replace(".", "__"): torch.nn.Parameter(t.detach())
                        for name, t in params.items()
                    }
                )
                self.names = list(params)

            def weights(self):
                return {
                    name: self.p[name.replace(".", "__")]
                    for name in self.names
                }

            def forward(self, twin, docs, cfg, scale):
                part, _ = local_loss_sum(twin, self.weights(), docs, cfg)
                return part * scale

        return Twin()


def reductions(rank, nproc, batch_size=8, steps=10):
    """The same steps with three ways of summing gradients; their times.

    naive all-reduces each parameter's gradient on its own, bucket all
    of them in one flat vector (as step does), ddp leaves it to
    DistributedDataParallel, which averages: the loss is scaled by nproc
    so that its average is the sum. Each returns its losses and seconds
    per step, and the seconds spent in all-reduce (naive, bucket).
    """
    import time

    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from .config import TrainConfig
    from .gpt_torch import Adam
    from .train import lr_at

    tcfg = TrainConfig(num_steps=steps, batch_size=batch_size)
    result = {}
    for method in ("naive", "bucket", "ddp"):
        twin, params, batch, cfg = _setup_run(batch_size)
        model = None
        if method == "ddp":
            model = DistributedDataParallel(_Module.make(params))
            params = model.module.weights()
        opt = Adam(params, tcfg)
        losses, talk = [], 0.0
        dist.barrier()
        start = time.perf_counter()
        for s in range(steps):
            docs = batch(s)
            lo, hi = shard(len(docs), rank, nproc)
            count = torch.tensor(
                [sum(min(cfg.block_size, len(t) - 1) for t in docs[lo:hi])]
            )
            dist.all_reduce(count)
            total = int(count.item())
            if model is not None:
                loss = model(twin, docs[lo:hi], cfg, nproc / total)
                loss.backward()  # DDP all-reduces as the gradients come
                loss = loss / nproc
            else:
                part, _ = local_loss_sum(twin, params, docs[lo:hi], cfg)
                loss = part / total
                loss.backward()
                tick = time.perf_counter()
                if method == "naive":
                    for p in params.values():
                        dist.all_reduce(p.grad)
                else:
                    grads = [p.grad for p in params.values()]
                    flat = torch.cat([g.reshape(-1) for g in grads])
                    dist.all_reduce(flat)
                    torch._foreach_copy_(
                        grads,
                        [
                            f.view_as(g)
                            for f, g in zip(
                                flat.split([g.numel() for g in grads]), grads
                            )
                        ],
                    )
                talk += time.perf_counter() - tick
            summed = loss.detach().reshape(1)
            dist.all_reduce(summed)
            losses.append(summed.item())
            opt.step(lr_at(s, tcfg))
        seconds = (time.perf_counter() - start) / steps
        result[method] = {
            "losses": losses,
            "step_s": seconds,
            "allreduce_s": talk / steps,
        }
    return result


def throughput(rank, nproc, batch_size=64, steps=20):
    """Tokens per second of data-parallel steps, and all-reduce's share."""
    import time

    import torch
    import torch.distributed as dist

    from .config import TrainConfig
    from .gpt_torch import Adam
    from .train import lr_at

    twin, params, batch, cfg = _setup_run(batch_size)
    tcfg = TrainConfig(num_steps=steps, batch_size=batch_size)
    opt = Adam(params, tcfg)
    tokens, talk = 0, 0.0
    step(twin, params, opt, batch(0), lr_at(0, tcfg), cfg, rank, nproc)
    dist.barrier()  # the first step, a warm-up, is not timed
    start = time.perf_counter()
    for s in range(1, steps):
        docs = batch(s)
        tokens += sum(min(cfg.block_size, len(t) - 1) for t in docs)
        lo, hi = shard(len(docs), rank, nproc)
        part, _ = local_loss_sum(twin, params, docs[lo:hi], cfg)
        count = torch.tensor(
            [sum(min(cfg.block_size, len(t) - 1) for t in docs[lo:hi])]
        )
        tick = time.perf_counter()
        dist.all_reduce(count)
        talk += time.perf_counter() - tick
        (part / int(count.item())).backward()
        grads = [p.grad for p in params.values()]
        flat = torch.cat([g.reshape(-1) for g in grads])
        tick = time.perf_counter()
        dist.all_reduce(flat)
        talk += time.perf_counter() - tick
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()
        opt.step(lr_at(s, tcfg))
    seconds = time.perf_counter() - start
    # The all-reduce alone, the processes starting it together: its
    # own cost, without the wait for a process still computing.
    alone = []
    for _ in range(steps):
        dist.barrier()
        tick = time.perf_counter()
        dist.all_reduce(flat)
        alone.append(time.perf_counter() - tick)
    return {
        "tokens_per_s": tokens / seconds,
        "comm_share": talk / seconds,
        "step_s": seconds / (steps - 1),
        "allreduce_s": sorted(alone)[len(alone) // 2],  # the median
        "nproc": nproc,
    }


def one_process_throughput(batch_size=64, steps=20, threads=1):
    """throughput's baseline: tokens per second of one plain process.

    It runs here, in the calling process, on threads threads (one, as
    each of throughput's processes), with the twin's own train_step: no
    process group, no all-reduce.
    """
    import time

    import torch

    from .config import TrainConfig
    from .gpt_torch import Adam
    from .train import lr_at

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        twin, params, batch, cfg = _setup_run(batch_size)
        tcfg = TrainConfig(num_steps=steps, batch_size=batch_size)
        opt = Adam(params, tcfg)
        twin.train_step(params, opt, batch(0), lr_at(0, tcfg), cfg)
        tokens, start = 0, time.perf_counter()
        for s in range(1, steps):
            docs = batch(s)
            tokens += sum(min(cfg.block_size, len(t) - 1) for t in docs)
            twin.train_step(params, opt, docs, lr_at(s, tcfg), cfg)
        seconds = time.perf_counter() - start
        return {
            "tokens_per_s": tokens / seconds,
            "step_s": seconds / (steps - 1),
            "comm_share": 0.0,
            "nproc": 1,
            "threads": threads,
        }
    finally:
        torch.set_num_threads(before)


EXPERIMENTS = {
    "allreduce_sum": allreduce_sum,
    "reductions": reductions,
    "throughput": throughput,
}
