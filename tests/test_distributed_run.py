"""Faults under torchrun, with microgpt.distributed_run and without.

microgpt.distributed_run is torchrun reporting a failure in one line:
each fault of a data-parallel run ends every process within a bounded
time with one line ``microgpt: error: ...``, no traceback and nothing
half written. torchrun itself ends the run just as fast, but reports in
its own way; what microgpt adds there is the cause, written to torch's
elastic error file, which torchrun's report quotes.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_run import assert_one_line_error

from microgpt import distributed, distributed_run

pytestmark = pytest.mark.cli

ONE_LINE = [sys.executable, "-m", "microgpt.distributed_run"]
PREFIX = "microgpt: error: "
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
SMALL = (
    "-m microgpt train --impl torch --n-embd 8 --n-head 2 --n-layer 1 "
    "--block-size 8 --num-samples 4"
).split()
BOUND = 60  # seconds: every fault ends the run well within this


def run(command, env=None):
    """The result of command, which must end within BOUND seconds."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env={**os.environ, **(env or {})},
    )


def assert_nothing_written(folder):
    assert list(Path(folder).iterdir()) == []


# -- the cause, from torchrun's record of the failures -----------------------


class Failure:
    """What torchrun knows of a process that failed (ProcessFailure)."""

    def __init__(self, exitcode, message="", error_file="<N/A>", time=0):
        self.exitcode, self.message = exitcode, message
        self.error_file, self.timestamp = error_file, time

    def signal_name(self):
        return signal.Signals(-self.exitcode).name


class Failed:
    """A ChildFailedError's failures, first in time first."""

    def __init__(self, failures):
        self.failures = failures

    def get_first_failure(self):
        rank = min(self.failures, key=lambda r: self.failures[r].timestamp)
        return rank, self.failures[rank]


def test_the_cause_is_the_first_error_a_process_wrote():
    error = Failed(
        {
            0: Failure(-15, time=5),
            1: Failure(
                1,
                {"message": "3 processes need at least 3"},
                "/tmp/e.json",
                time=3,
            ),
        }
    )
    assert distributed_run.cause(error) == "3 processes need at least 3"


def test_a_process_killed_from_outside_is_the_cause_not_its_peers_error():
    # Rank 0 noticed the loss first and said so; rank 1 was killed.
    error = Failed(
        {
            0: Failure(
                1,
                {"message": "data-parallel training stopped"},
                "/tmp/e.json",
                time=3,
            ),
            1: Failure(-9, time=4),
        }
    )
    assert distributed_run.cause(error) == (
        "the process of rank 1 ended with SIGKILL; torchrun stopped the others"
    )


def test_a_failure_without_an_error_file_is_named_by_its_exit_status():
    error = Failed({0: Failure(-15, time=5), 2: Failure(3, time=4)})
    assert distributed_run.cause(error) == (
        "the process of rank 2 ended with exit status 3; torchrun stopped "
        "the others"
    )


def test_an_error_line_reaches_the_error_file_and_is_kept_back(tmp_path):
    shown, path = [], tmp_path / "error.json"

    class Stream:
        def write(self, text):
            shown.append(text)

        def flush(self):
            pass

    for show in (False, True):
        shown.clear()
        stream = distributed.ErrorLines(
            Stream(), show=show, error_file=str(path)
        )
        print("progress", file=stream)
        print("microgpt: error: it broke", file=stream)
        record = json.loads(path.read_text())["message"]
        assert record["message"] == "it broke"
        assert int(record["extraInfo"]["timestamp"]) > 0
        expected = ["progress", "\n"] + (
            ["microgpt: error: it broke", "\n"] if show else []
        )
        assert shown == expected


def test_a_quiet_process_prints_its_error_only_if_it_is_the_first():
    shown = []

    class Stream:
        def write(self, text):
            shown.append(text)

    for first in (False, True):
        shown.clear()
        stream = distributed.ErrorLines(
            Stream(), show=lambda: first, quiet=True
        )
        print("num docs: 32033", file=stream)
        print("microgpt: error: it broke", file=stream)
        print("after", file=stream)
        assert shown == (["microgpt: error: it broke", "\n"] if first else [])


# -- the faults, each under both ---------------------------------------------


def assert_torchruns_report_and_one_line(result, line):
    """Plain torchrun: its report, and microgpt's one line above it."""
    assert result.returncode != 0
    said = [x for x in result.stderr.splitlines() if x.startswith(PREFIX)]
    assert said == [PREFIX + line], result.stderr
    # torchrun's report names the cause that microgpt wrote, not a link
    # to where tracebacks are explained.
    assert f"traceback : {line}" in result.stderr
    assert "To enable traceback" not in result.stderr
    # One traceback, torchrun's own, none from microgpt's processes.
    assert result.stderr.count("Traceback") == 1


@pytest.mark.parametrize("launcher", ["one_line", "torchrun"])
def test_more_processes_than_documents(launcher, tmp_path):
    command = ONE_LINE if launcher == "one_line" else TORCHRUN
    save = str(tmp_path / "m.npz")
    result = run(
        [*command, "--nproc-per-node", "3", *SMALL, "--batch-size", "2"]
        + ["--save", save]
    )
    line = (
        "3 processes need at least 3 documents per step, one each; "
        "--batch-size is 2"
    )
    if launcher == "one_line":
        assert_one_line_error(result, line)
    else:
        assert_torchruns_report_and_one_line(result, line)
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("launcher", ["one_line", "torchrun"])
def test_an_unsupported_backend(launcher, tmp_path):
    command = ONE_LINE if launcher == "one_line" else TORCHRUN
    log = str(tmp_path / "log.jsonl")
    result = run(
        [*command, "--nproc-per-node", "2", *SMALL, "--batch-size", "2"]
        + ["--backend", "mpi", "--log-file", log]
    )
    line = "--backend mpi: microgpt runs on gloo or nccl"
    if launcher == "one_line":
        assert_one_line_error(result, line)
    else:
        assert_torchruns_report_and_one_line(result, line)
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("launcher", ["one_line", "torchrun"])
def test_a_port_in_use(launcher, tmp_path):
    command = ONE_LINE if launcher == "one_line" else TORCHRUN
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            [*command, "--nproc-per-node", "2", "--master-port", str(port)]
            + [*SMALL, "--batch-size", "2", "--save", str(tmp_path / "m")]
        )
    if launcher == "one_line":
        assert_one_line_error(result, f"port {port} is already in use")
    else:
        # torchrun fails before any process of microgpt starts: its own
        # traceback, which only distributed_run turns into one line.
        # PyTorch 2.2 words the error in the C library's terms.
        assert result.returncode != 0 and result.stdout == ""
        assert (
            "EADDRINUSE" in result.stderr
            or "Address already in use" in result.stderr
        )
    assert_nothing_written(tmp_path)


def test_a_rendezvous_that_never_completes_is_one_line(tmp_path):
    # The first of two machines, and the second never comes.
    start = time.monotonic()
    result = run(
        ONE_LINE
        + [
            "--nnodes",
            "2",
            "--nproc-per-node",
            "1",
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            f"127.0.0.1:{distributed.free_port()}",
            "--rdzv-id",
            "alone",
            "--rdzv-conf",
            "join_timeout=3",
            *SMALL,
            "--batch-size",
            "2",
            "--save",
            str(tmp_path / "m.npz"),
        ]
    )
    assert time.monotonic() - start < BOUND
    assert_one_line_error(
        result, "the rendezvous did not complete", "join_timeout"
    )
    assert_nothing_written(tmp_path)


def _workers(agent):
    """{rank: pid} of the workers that the torchrun process agent runs."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, or one that has just ended
            continue
        # The parent's pid follows the command's name, in parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) != agent:
            continue
        for item in environ:
            if item.startswith(b"RANK="):
                found[int(item[5:])] = int(entry.name)
    return found


def _ended(pid):
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize(
    "launcher, victim", [("one_line", 0), ("one_line", 1), ("torchrun", 0)]
)
def test_a_process_that_dies(tmp_path, launcher, victim):
    command = ONE_LINE if launcher == "one_line" else TORCHRUN
    save = tmp_path / "m.npz"
    proc = subprocess.Popen(
        [*command, "--nproc-per-node", "2", *SMALL, "--steps", "100000"]
        + ["--batch-size", "4", "--save", str(save)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + BOUND
        while len(workers := _workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.2)
        time.sleep(3)  # well into training
        os.kill(workers[victim], signal.SIGKILL)
        out, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    said = [x for x in err.splitlines() if x.startswith(PREFIX)]
    if launcher == "one_line":
        assert proc.returncode == 1
        assert "Traceback" not in err
        assert said == [
            f"{PREFIX}the process of rank {victim} ended with SIGKILL; "
            f"torchrun stopped the others"
        ], err
        assert err.splitlines()[-1] == said[0]
    else:
        # The killed process could say nothing; the other one, stopped
        # by torchrun, says why (rank 1, which prints nothing else).
        assert proc.returncode != 0
        assert len(said) == 1 and "another process failed" in said[0], err
        assert "Signal 9 (SIGKILL)" in err
    assert "samples" not in out
    assert_nothing_written(tmp_path)
    assert all(_ended(pid) for pid in workers.values())
