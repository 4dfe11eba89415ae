"""Data parallelism: N processes compute one process's training run.

The runs use a small model in float64 on the CPU, over gloo, and every
subprocess has a timeout, so that a hang fails a test instead of
stalling the suite.
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
import torch
from cli_run import assert_one_line_error, microgpt, samples_of

from microgpt import cli, distributed, gpt_torch, train
from microgpt.config import ModelConfig

pytestmark = pytest.mark.cli

TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
SMALL = [
    "train",
    "--impl",
    "torch",
    "--n-embd",
    "8",
    "--n-head",
    "2",
    "--n-layer",
    "1",
    "--block-size",
    "8",
    "--num-samples",
    "4",
]
STEPS = 60
BATCH = 7  # divides by neither 2 nor 3: the shares differ in size
TIMEOUT = 120


def run(command, env=None, timeout=TIMEOUT):
    """A subprocess's result, given at most timeout seconds."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def losses(path):
    """The losses of a --log file, step by step."""
    return [
        json.loads(line)["loss"]
        for line in Path(path).read_text().splitlines()
    ]


def assert_same_run(reference, result, log):
    """result's losses (in log) and samples are reference's."""
    assert result.returncode == 0, result.stderr
    expected, got = reference
    assert len(losses(log)) == len(expected)
    for a, b in zip(expected, losses(log)):
        assert abs(a - b) <= 1e-12 * abs(a)
    assert samples_of(result.stdout) == got


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The one-process run at --batch-size BATCH: (losses, samples)."""
    log = tmp_path_factory.mktemp("one") / "log.jsonl"
    result = microgpt(
        *SMALL,
        "--steps",
        str(STEPS),
        "--batch-size",
        str(BATCH),
        "--log",
        str(log),
    )
    assert result.returncode == 0, result.stderr
    return losses(log), samples_of(result.stdout)


# -- the split ---------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 2, 5, 7, 64])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_the_shares_cover_the_batch_once_and_differ_by_at_most_one(
    batch, world
):
    if world > batch:
        with pytest.raises(distributed.DistributedError, match="at least"):
            distributed.shard(batch, 0, world)
        return
    spans = [distributed.shard(batch, r, world) for r in range(world)]
    assert spans[0][0] == 0 and spans[-1][1] == batch
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    sizes = [stop - start for start, stop in spans]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)  # the first take more


def test_torchruns_variables_mark_a_launched_process():
    assert distributed.launched(
        {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}
    )
    assert not distributed.launched({"RANK": "0", "WORLD_SIZE": "2"})
    assert not distributed.launched({})


def test_a_free_port_can_be_bound():
    port = distributed.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_the_wait_for_the_others_is_a_positive_number_of_seconds():
    assert distributed.timeout_seconds({}) == distributed.DEFAULT_TIMEOUT
    assert distributed.timeout_seconds({"MICROGPT_DIST_TIMEOUT": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(distributed.DistributedError):
            distributed.timeout_seconds({"MICROGPT_DIST_TIMEOUT": bad})


# -- the arithmetic, in one process ------------------------------------------


def _batch(docs, n):
    rng, shuffled, tokenizer = train.prepare(docs[:500], 42)
    cfg = ModelConfig(
        n_embd=8,
        n_head=2,
        n_layer=1,
        block_size=8,
        vocab_size=tokenizer.vocab_size,
    )
    params = gpt_torch.init_params(cfg, rng)
    return params, [tokenizer.frame(d) for d in shuffled[:n]], cfg


def _flat(grads):
    return torch.cat([torch.as_tensor(g).reshape(-1) for g in grads.values()])


def test_token_weighted_shares_add_up_to_the_whole_batchs_gradient(docs):
    params, batch, cfg = _batch(docs, BATCH)
    loss, whole = gpt_torch.loss_and_grads(params, batch, cfg)
    total = sum(min(cfg.block_size, len(t) - 1) for t in batch)
    summed, summed_loss = 0, 0
    for rank in range(3):
        start, stop = distributed.shard(BATCH, rank, 3)
        part, count = distributed.local_loss_sum(
            gpt_torch, params, batch[start:stop], cfg
        )
        (part / total).backward()
        summed_loss += part.item() / total
        summed = summed + _flat(gpt_torch._grads(params))
    assert abs(summed_loss - loss) <= 1e-13 * loss
    assert torch.allclose(summed, _flat(whole), rtol=0, atol=1e-14)


def test_the_mean_of_the_shares_means_is_a_different_update(docs):
    # With unequal token counts, averaging each process's mean loss
    # weighs a token of a short share more than one of a long share.
    params, batch, cfg = _batch(docs, BATCH)
    _, whole = gpt_torch.loss_and_grads(params, batch, cfg)
    counts, means = [], 0
    for rank in range(2):
        start, stop = distributed.shard(BATCH, rank, 2)
        share = batch[start:stop]
        counts.append(sum(min(cfg.block_size, len(t) - 1) for t in share))
        _, grads = gpt_torch.loss_and_grads(params, share, cfg)
        means = means + _flat(grads) / 2
    assert counts[0] != counts[1]
    right = _flat(whole)
    relative = ((means - right).norm() / right.norm()).item()
    # By how much: a few percent of the gradient's length here, far
    # above rounding (1e-15), and the step's direction turns with it.
    assert 1e-3 < relative < 0.5, relative
    cosine = torch.dot(means, right) / (means.norm() * right.norm())
    assert cosine.item() < 1 - 1e-6


# -- the command line and torchrun's parser ----------------------------------


def _train_options():
    parser = cli.build_parser()
    sub = next(
        a
        for a in parser._actions
        if isinstance(getattr(a, "choices", None), dict)
    )
    return sorted(
        s
        for a in sub.choices["train"]._actions
        for s in a.option_strings
        if s not in ("-h", "--help")
    )


def _through_torchrun(option):
    """The script arguments torchrun's parser hands on, or its error."""
    from torch.distributed.run import get_args_parser

    argv = ["--nproc-per-node", "1", "-m", "microgpt", "train", option, "1"]
    try:
        args = get_args_parser().parse_args(argv)
    except SystemExit:
        return None
    return args.training_script_args


def test_every_train_option_but_log_and_nproc_survives_torchruns_parser(
    capsys,
):
    # torchrun matches option prefixes across the whole command line:
    # --log is a prefix of its --log-dir and --logs-specs, --nproc of
    # its --nproc-per-node. --log-file is --log's name that survives;
    # --nproc is for launching without torchrun.
    refused = [
        o
        for o in _train_options()
        if _through_torchrun(o) != ["train", o, "1"]
    ]
    assert refused == ["--log", "--nproc"]
    assert "ambiguous option: --log" in capsys.readouterr().err


def test_log_file_and_its_old_spelling_name_one_option():
    parser = cli.build_parser()
    for flag in ("--log", "--log-file"):
        args = parser.parse_args(["train", flag, "x.jsonl"])
        assert args.log == "x.jsonl"


def test_torchrun_passes_every_option_of_a_names_run(tmp_path, one_process):
    save, log = tmp_path / "m.npz", tmp_path / "log.jsonl"
    result = run(
        TORCHRUN
        + [
            "--nproc-per-node",
            "2",
            "-m",
            "microgpt",
            *SMALL,
            "--steps",
            str(STEPS),
            "--batch-size",
            str(BATCH),
            "--device",
            "cpu",
            "--dtype",
            "float64",
            "--lr",
            "0.01",
            "--beta1",
            "0.85",
            "--beta2",
            "0.99",
            "--eps",
            "1e-8",
            "--seed",
            "42",
            "--temperature",
            "0.5",
            "--top-k",
            "20",
            "--top-p",
            "0.9",
            "--data",
            os.environ["MICROGPT_DATA"],
            "--save",
            str(save),
            "--keep-freed-memory",
            "--log-file",
            str(log),
            "--val-fraction",
            "0.1",
            "--eval-every",
            "30",
            "--backend",
            "gloo",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert save.exists()
    records = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["step"] for r in records if "val_loss" in r] == [0, 30, 60]
    assert len(samples_of(result.stdout)) == 4
    assert result.stdout.count("num docs:") == 1  # rank 0 alone prints


@pytest.mark.parametrize(
    "option",
    ["--text", "--tokens", "--vocab-size", "--sample-length", "--prompt"],
)
def test_torchrun_hands_the_text_options_on_to_be_refused(option):
    value = {
        "--tokens": "bpe",
        "--vocab-size": "300",
        "--sample-length": "5",
    }.get(option, "x")
    result = run(
        TORCHRUN
        + [
            "--nproc-per-node",
            "1",
            "-m",
            "microgpt",
            *SMALL,
            "--batch-size",
            "2",
            option,
            value,
        ]
    )
    assert result.returncode != 0
    assert "microgpt: error: " in result.stderr
    assert "torchrun: error" not in result.stderr


# -- proven equal ------------------------------------------------------------


@pytest.mark.parametrize("nproc", [2, 3])
def test_nproc_reproduces_the_one_process_run(tmp_path, one_process, nproc):
    log = tmp_path / "log.jsonl"
    result = microgpt(
        *SMALL,
        "--steps",
        str(STEPS),
        "--batch-size",
        str(BATCH),
        "--nproc",
        str(nproc),
        "--log",
        str(log),
    )
    assert_same_run(one_process, result, log)


@pytest.mark.parametrize("nproc", [2, 3])
def test_torchrun_reproduces_the_one_process_run(tmp_path, one_process, nproc):
    log = tmp_path / "log.jsonl"
    result = run(
        TORCHRUN
        + [
            "--nproc-per-node",
            str(nproc),
            "--master-port",
            str(distributed.free_port()),
            "-m",
            "microgpt",
            *SMALL,
            "--steps",
            str(STEPS),
            "--batch-size",
            str(BATCH),
            "--log-file",
            str(log),
        ]
    )
    assert_same_run(one_process, result, log)


def test_two_machines_at_a_rendezvous_reproduce_the_one_process_run(
    tmp_path, one_process
):
    endpoint = f"127.0.0.1:{distributed.free_port()}"
    logs = [tmp_path / f"log{node}.jsonl" for node in range(2)]
    nodes = [
        subprocess.Popen(
            TORCHRUN
            + [
                "--nnodes",
                "2",
                "--nproc-per-node",
                "1",
                "--rdzv-backend",
                "c10d",
                "--rdzv-endpoint",
                endpoint,
                "--rdzv-id",
                "h6",
                "-m",
                "microgpt",
                *SMALL,
                "--steps",
                str(STEPS),
                "--batch-size",
                str(BATCH),
                "--log-file",
                str(logs[node]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for node in range(2)
    ]
    results = []
    for node in nodes:
        try:
            out, err = node.communicate(timeout=TIMEOUT)
        finally:
            node.kill()
        results.append(
            subprocess.CompletedProcess(node.args, node.returncode, out, err)
        )
    # Whichever node's process became rank 0 wrote the log and samples.
    first = [r for r, log in zip(results, logs) if log.exists()]
    assert len(first) == 1
    assert all(r.returncode == 0 for r in results), results[1].stderr
    assert_same_run(
        one_process, first[0], next(log for log in logs if log.exists())
    )


@pytest.mark.slow
def test_two_and_three_processes_reproduce_a_thousand_steps(tmp_path):
    logs = [tmp_path / f"{n}.jsonl" for n in ("one", "two", "three")]
    common = [*SMALL, "--steps", "1000", "--batch-size", "5"]
    results = [
        microgpt(*common, "--log", str(logs[0])),
        microgpt(*common, "--nproc", "2", "--log", str(logs[1])),
        run(
            TORCHRUN
            + [
                "--nproc-per-node",
                "3",
                "--master-port",
                str(distributed.free_port()),
                "-m",
                "microgpt",
                *common,
                "--log-file",
                str(logs[2]),
            ]
        ),
    ]
    reference = losses(logs[0]), samples_of(results[0].stdout)
    for result, log in zip(results[1:], logs[1:]):
        assert_same_run(reference, result, log)


# -- faults ------------------------------------------------------------------


def test_more_processes_than_documents_is_one_line():
    result = microgpt(*SMALL, "--batch-size", "2", "--nproc", "3")
    assert_one_line_error(result, "--nproc 3", "--batch-size is 2")


def test_nproc_needs_the_torch_twin():
    result = microgpt(
        "train", "--impl", "numpy", "--batch-size", "2", "--nproc", "2"
    )
    assert_one_line_error(result, "--impl torch")


@pytest.mark.parametrize(
    "backend, fragment",
    [("mpi", "gloo or nccl"), ("nccl", "needs each process on a GPU")],
)
def test_an_unsupported_backend_is_one_line(backend, fragment, tmp_path):
    log = tmp_path / "log.jsonl"
    result = microgpt(
        *SMALL,
        "--batch-size",
        "2",
        "--nproc",
        "2",
        "--backend",
        backend,
        "--log",
        str(log),
    )
    assert_one_line_error(result, f"--backend {backend}", fragment)
    assert not log.exists()


def test_a_port_in_use_is_one_line(tmp_path):
    save = tmp_path / "m.npz"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = microgpt(
            *SMALL,
            "--batch-size",
            "2",
            "--nproc",
            "2",
            "--save",
            str(save),
            env={"MASTER_PORT": str(port), "MICROGPT_DIST_TIMEOUT": "10"},
        )
    assert_one_line_error(result, "already in use")
    assert not save.exists() and list(tmp_path.iterdir()) == []


def test_a_rendezvous_that_never_completes_ends_in_bounded_time(tmp_path):
    # Rank 0 of two, and the other never comes.
    env = {
        "RANK": "0",
        "WORLD_SIZE": "2",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(distributed.free_port()),
        "MICROGPT_DIST_TIMEOUT": "3",
    }
    start = time.monotonic()
    result = microgpt(
        *SMALL, "--batch-size", "2", "--save", str(tmp_path / "m.npz"), env=env
    )
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("microgpt: error: rank 0 could not join")
    assert sum(x.startswith("microgpt: error") for x in lines) == 1
    assert list(tmp_path.iterdir()) == []


def _workers(pid):
    """The pids of launch's worker processes, children of pid (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # not a process, or one that has just ended
            continue
        # The parent's pid follows the command's name, in parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if (
            parent == pid
            and b"spawn_main" in command
            and b"resource_tracker" not in command
        ):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("victim", [0, 1])
def test_a_process_that_dies_ends_the_run_with_one_line(tmp_path, victim):
    save = tmp_path / "m.npz"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "microgpt",
            *SMALL,
            "--steps",
            "100000",
            "--batch-size",
            "4",
            "--nproc",
            "2",
            "--save",
            str(save),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.2)
        time.sleep(3)  # well into training
        workers = sorted(_workers(proc.pid))
        os.kill(workers[victim], signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "Traceback" not in err
    assert err.count("microgpt: error: ") == 1, err
    assert err.splitlines()[-1].startswith("microgpt: error: "), err
    assert "samples" not in out
    assert not save.exists()
    for pid in workers:  # every worker has ended
        assert (
            not os.path.exists(f"/proc/{pid}")
            or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
        )


# -- the chapter's experiments -----------------------------------------------


def test_spawned_processes_all_reduce_to_the_sum():
    result = distributed.spawn(
        "allreduce_sum", 2, values=[[1.0, 2.0], [10.0, 20.0]]
    )
    assert result["sums"] == [[11.0, 22.0], [11.0, 22.0]]


def test_the_three_reductions_take_the_same_steps_as_one_process():
    runs = distributed.spawn("reductions", 2, batch_size=5, steps=4)
    # One process, the same batches: the twin's own batched steps.
    from microgpt.config import TrainConfig

    impl, params, batch, cfg = distributed._setup_run(5)
    tcfg = TrainConfig(num_steps=4, batch_size=5)
    opt = impl.Adam(params, tcfg)
    alone = [
        impl.train_step(params, opt, batch(s), train.lr_at(s, tcfg), cfg)
        for s in range(4)
    ]
    for way in ("naive", "bucket", "ddp"):
        got = runs[way]["losses"]
        assert all(abs(a - b) <= 1e-12 * b for a, b in zip(got, alone)), way
        assert runs[way]["step_s"] > 0
    assert runs["naive"]["allreduce_s"] > 0


def test_throughput_counts_tokens_and_the_talking_share():
    two = distributed.spawn("throughput", 2, batch_size=8, steps=3)
    one = distributed.one_process_throughput(batch_size=8, steps=3)
    assert two["nproc"] == 2 and one["nproc"] == 1
    assert two["tokens_per_s"] > 0 and one["tokens_per_s"] > 0
    assert 0 < two["comm_share"] < 1 and one["comm_share"] == 0


def test_a_process_without_a_gpu_of_its_own_is_refused(monkeypatch):
    # Two processes on a machine with one GPU: the second has none.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(
        distributed.DistributedError, match="no GPU of its own: there are 1"
    ):
        distributed.setup(gpt_torch, {}, None, batch_size=4)


def test_nccl_needs_a_gpu_and_gloo_is_the_cpus():
    cpu = torch.device("cpu")
    assert distributed.choose_backend(None, cpu) == "gloo"
    with pytest.raises(distributed.DistributedError, match="GPU"):
        distributed.choose_backend("nccl", cpu)
    with pytest.raises(distributed.DistributedError, match="gloo or nccl"):
        distributed.choose_backend("mpi", cpu)


def test_under_torchrun_a_missing_machine_ends_at_its_join_timeout(tmp_path):
    # torchrun's own rendezvous waits for the second machine, then ends
    # with torchrun's report (microgpt never starts): bounded by
    # --rdzv-conf join_timeout, 600 s unless set.
    save = tmp_path / "m.npz"
    start = time.monotonic()
    result = run(
        TORCHRUN
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
            "-m",
            "microgpt",
            *SMALL,
            "--batch-size",
            "2",
            "--save",
            str(save),
        ]
    )
    assert time.monotonic() - start < 60
    assert result.returncode != 0
    assert "RendezvousTimeoutError" in result.stderr
    assert result.stdout == "" and not save.exists()


def test_a_lost_peer_is_said_in_words():
    # gloo's transport error, as a process left waiting by a dead one
    # sees it, becomes one sentence; any other error keeps its first line.
    lost = RuntimeError(
        "[gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:28888: "
        "Connection reset by peer. This is typically caused by a remote "
        "worker hanging\nmore"
    )
    assert distributed.why_stopped(lost) == (
        "another process failed or was killed (its connection closed)"
    )
    other = RuntimeError("the first line\nthe second")
    assert distributed.why_stopped(other) == "the first line"
