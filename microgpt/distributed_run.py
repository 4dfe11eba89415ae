"""python -m microgpt.distributed_run: torchrun that fails in one line.

It is torchrun itself, torch.distributed.run, with its options and its
launching, rendezvous and monitoring code, so a command line works with
either one:

    torchrun --nproc-per-node 2 -m microgpt train --impl torch
    python -m microgpt.distributed_run --nproc-per-node 2 -m microgpt \\
        train --impl torch

What differs is a failure. torchrun ends every process when one fails,
then reports the failure as a Python traceback around a table of every
process; a port already in use or a rendezvous that never completes
ends it with a traceback of its own. Here each of them is one line,
``microgpt: error: ...``, and the exit status is 1. The line comes from
the error file of the process that failed first: microgpt's processes
write their error there (see distributed.ErrorLines), as torch's
elastic error files expect.
"""

import logging
import os
import signal
import sys

from microgpt import distributed

# The workers keep their own error lines back: this process prints one.
QUIET = "MICROGPT_ONE_ERROR_LINE"


def _silence_torchrun_logs():
    """Keep torchrun's warnings (each process it stops) off stderr."""

    class NotElastic(logging.Filter):
        def filter(self, record):
            return not record.name.startswith("torch.distributed")

    for name in ("", "torch"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(NotElastic())
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("torch.distributed") and isinstance(
            logger, logging.Logger
        ):
            logger.setLevel(logging.CRITICAL)


def cause(error):
    """The one line that names the first failure of a ChildFailedError.

    A process ended by a signal from outside (not torchrun's SIGTERM to
    the others) is the cause, even where a process that lost touch with
    it reported first; else the first failure in time is.
    """
    failures = error.failures
    killed = [
        rank
        for rank, f in sorted(failures.items())
        if f.exitcode < 0 and -f.exitcode != signal.SIGTERM
    ]
    rank = killed[0] if killed else error.get_first_failure()[0]
    failure = failures[rank]
    message = failure.message
    if isinstance(message, dict):
        message = message.get("message", "")
    if failure.exitcode < 0:
        name = failure.signal_name() or f"signal {-failure.exitcode}"
        return (
            f"the process of rank {rank} ended with {name}; torchrun "
            f"stopped the others"
        )
    if failure.error_file == "<N/A>" or not message:
        return (
            f"the process of rank {rank} ended with exit status "
            f"{failure.exitcode}; torchrun stopped the others"
        )
    return message


def main(argv=None):
    """Run torchrun with argv; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # torchrun's default, set here so that it does not print a banner
    # saying that it set it.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ[QUIET] = "1"
    distributed.quiet_cpp_logs()  # before this process imports torch
    from torch.distributed import DistNetworkError
    from torch.distributed.elastic.multiprocessing.errors import (
        ChildFailedError,
    )
    from torch.distributed.elastic.rendezvous import RendezvousError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args(argv)  # usage errors exit with 2
    _silence_torchrun_logs()
    try:
        run(args)
    except ChildFailedError as e:
        line = cause(e)
    except RendezvousError as e:
        line = (
            f"the rendezvous did not complete: {_first_line(e)} "
            f"(torchrun's --rdzv-conf join_timeout sets the wait)"
        )
    except DistNetworkError as e:
        line = _first_line(e)
        if "EADDRINUSE" in line or "already in use" in line:
            line = (
                f"port {args.master_port} is already in use; choose "
                f"a free --master-port, or --standalone"
            )
    except KeyboardInterrupt:
        print("microgpt: interrupted", file=sys.stderr)
        return 130
    else:
        return 0
    # A progress bar that rank 0 was drawing may be cut mid-line.
    print(f"\nmicrogpt: error: {line}", file=sys.stderr)
    return 1


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
