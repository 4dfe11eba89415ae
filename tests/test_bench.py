"""The benchmark: its --quick run and its command line.

No test here asserts a speed: timings depend on the machine and its load.
They check that the benchmark measures what it says it does.
"""

import json
import math
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.bench import run as bench
from microgpt.config import ModelConfig

pytestmark = pytest.mark.efficiency


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The JSON and the printed table of one --quick run."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    # A subprocess, so that the thread limits it sets stay there.
    done = subprocess.run(
        [sys.executable, "-m", "microgpt.bench", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert os.listdir(out.parent) == ["bench.json"]  # no part file left
    with open(out) as f:
        return json.load(f), done.stdout


def positive(x):
    """A finite number above zero."""
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_quick_run_writes_every_section(quick):
    result, _ = quick
    assert set(result) >= {
        "machine",
        "settings",
        "default",
        "names",
        "heap",
        "lengths",
        "results",
        "ratios",
        "targets",
        "torch_ops",
    }
    machine = result["machine"]
    for key in (
        "cpu",
        "cores",
        "python",
        "numpy",
        "torch",
        "blas",
        "torch_threads",
        "device",
    ):
        assert machine[key] not in (None, "", []), key
    assert result["settings"]["quick"] is True
    assert result["settings"]["threads"] == 1
    assert machine["torch_threads"] == 1
    # timed with freed memory kept, as the command line trains (see heap)
    glibc = platform.libc_ver()[0] == "glibc"
    assert result["settings"]["malloc_keeps_freed_memory"] is glibc


def test_quick_run_compares_one_process_with_two(quick):
    result, printed = quick
    parallel = result["data_parallel"]
    assert parallel["nproc"] == [1, 2]
    assert all(positive(x) for x in parallel["tokens_per_s"])
    one, two = parallel["tokens_per_s"]
    assert parallel["ratio"] == pytest.approx(two / one)
    assert 0 < parallel["comm_share"] < 1
    assert "data parallelism, torch on the CPU" in printed
    assert f"({parallel['ratio']:.2f}x)" in printed
    # The measurements that explain the ratio: the all-reduce's own
    # cost within a step, one process on as many threads, other work.
    assert 0 < parallel["allreduce_s"] < parallel["step_s"][1]
    threaded = parallel["one_process_threads"]
    assert threaded["threads"] == 2 and positive(threaded["tokens_per_s"])
    assert f"({threaded['ratio']:.2f}x)" in printed
    if parallel["cpus_busy"] is not None:  # Linux's /proc/stat
        assert 0 <= parallel["cpus_ours"] <= 1.05
        assert 0 < parallel["cpus_busy"] <= 1
        assert "of the CPUs busy" in printed


def test_quick_run_times_all_three_at_the_default_config(quick):
    default = quick[0]["default"]
    assert set(default["step_ms"]) == {"scalar", "numpy", "torch"}
    assert all(positive(ms) for ms in default["step_ms"].values())
    ms = default["step_ms"]
    assert default["speedup"]["numpy_vs_scalar"] == pytest.approx(
        ms["scalar"] / ms["numpy"]
    )
    assert default["config"] == {**ModelConfig().__dict__, "vocab_size": 27}


def test_quick_run_trains_on_the_names_one_and_batched(quick):
    result, stdout = quick
    names, B = result["names"], result["settings"]["batch_size"]
    assert names["batch_size"] == B and names["names"] == 4 * B
    assert sorted((r["impl"], r["batch_size"]) for r in names["results"]) == [
        ("numpy", 1),
        ("numpy", B),
        ("torch", 1),
        ("torch", B),
    ]
    assert all(positive(r["step_ms"]) for r in names["results"])
    # real tokens only: a name has 1..block_size of them, and padding
    # makes a batch's share of real positions at most 1
    assert 1 <= names["mean_T"] <= 16
    assert 0 < names["real_share_one_per_row"] < names["real_share"] <= 1
    assert names["rows"] < B  # packing puts several names in a row
    tps = {(r["impl"], r["batch_size"]): r for r in names["results"]}
    for impl in ("numpy", "torch"):
        one, many = tps[impl, 1], tps[impl, B]
        assert one["tokens_per_s"] * one["step_ms"] / 1e3 == pytest.approx(
            names["mean_T"]
        )
        assert many["tokens_per_s"] * many["step_ms"] / 1e3 == pytest.approx(
            B * names["mean_T"]
        )
        assert names["gain"][impl] == pytest.approx(
            many["tokens_per_s"] / one["tokens_per_s"]
        )
    assert "training on the names" in stdout


def test_quick_run_counts_page_faults_both_ways(quick):
    heap = quick[0]["heap"]
    if platform.libc_ver()[0] != "glibc":
        assert heap is None  # nothing to compare: see heap
        return
    assert set(heap) == {"plain", "kept"}
    assert positive(heap["plain"]["step_ms"])
    assert positive(heap["kept"]["step_ms"])
    assert heap["kept"]["kept"] is True
    # each run is its own process, so malloc's choices show up as faults
    assert heap["plain"]["faults_per_step"] > heap["kept"]["faults_per_step"]


def test_quick_run_times_every_length_for_every_impl(quick):
    lengths = quick[0]["lengths"]
    Ts = sorted({r["T"] for r in lengths})
    assert len(Ts) >= 2
    assert sorted((r["impl"], r["T"]) for r in lengths) == sorted(
        (impl, T) for impl in ("scalar", "numpy", "torch") for T in Ts
    )
    assert all(positive(r["step_ms"]) for r in lengths)


def test_quick_run_rows_are_consistent(quick):
    result, _ = quick
    rows = result["results"]
    B = result["settings"]["batch_size"]
    assert {(r["impl"], r["batch_size"]) for r in rows} == {
        ("scalar", 1),
        ("numpy", 1),
        ("numpy", B),
        ("torch", 1),
        ("torch", B),
    }
    for r in rows:
        assert r["T"] == r["block_size"]
        assert all(
            positive(r[k]) for k in ("step_ms", "tokens_per_s", "gflops")
        )
        # tokens/s is B * T tokens per step, from the same step time
        assert r["tokens_per_s"] == pytest.approx(
            r["batch_size"] * r["T"] / (r["step_ms"] / 1e3)
        )
        assert r["repeats"] >= 1 and r["steps_per_repeat"] >= 1


def test_quick_run_ratios_and_targets(quick):
    result, stdout = quick
    (ratio,) = result["ratios"]
    assert all(positive(v) for v in ratio.values())
    for name, t in result["targets"].items():
        assert positive(t["value"]) and positive(t["target"])
        assert t["holds"] == (t["value"] >= t["target"])
        assert name in stdout
    assert "scalar: smallest size only" in stdout
    # A quick run batches 8, not 64: no verdict on the batching goals.
    assert list(result["targets"]) == ["numpy_vs_scalar_default"]
    assert "MISSED" not in stdout.split("numpy_vs_scalar_default")[0]
    assert "they are not judged" in stdout
    ops = result["torch_ops"]
    assert all(0 < c["compute_ops"] < c["ops"] for c in ops.values())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threads", "-1"], "--threads must be 0"),
        (["--threads", "100000"], "--threads must be 0"),
        (
            ["--out", "/no/such/folder/b.json"],
            "/no/such/folder does not exist",
        ),
        (["--out", "."], "--out .: is a folder"),
        (["--device", "nonsense"], "bad --device 'nonsense'"),
        (["--device", "meta"], "runs on cpu or cuda"),
    ],
)
def test_bad_arguments_are_one_clear_error(args, message):
    """Bad input is one usage error, before any measuring."""
    done = subprocess.run(
        [sys.executable, "-m", "microgpt.bench", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_batched_training_runs_from_the_command_line(tmp_path, expected_run):
    # --batch-size reaches train_step in both array twins; they take
    # the same steps, so their logged losses agree.
    losses = {}
    for impl in ("numpy", "torch"):
        log = tmp_path / f"{impl}.jsonl"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "microgpt",
                "train",
                "--impl",
                impl,
                "--batch-size",
                "8",
                "--steps",
                "5",
                "--num-samples",
                "1",
                "--log",
                str(log),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert done.returncode == 0, done.stderr
        losses[impl] = [
            json.loads(line)["loss"] for line in log.read_text().splitlines()
        ]
    a, b = losses["numpy"], losses["torch"]
    assert len(a) == len(b) == 5
    assert max(abs(x - y) / y for x, y in zip(a, b)) < 1e-12
    # the first step averages 8 names: near ln(27), like the original's
    # first loss, but not the first name's loss alone
    assert abs(a[0] - math.log(27)) < 0.1
    assert abs(a[0] - expected_run["losses"][0]) > 1e-6


def test_a_missing_dataset_is_one_clear_error(tmp_path):
    env = {**os.environ, "MICROGPT_DATA": str(tmp_path / "none.txt")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.bench",
            "--quick",
            "--out",
            str(tmp_path / "b.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2
    assert "MICROGPT_DATA points to a missing file" in done.stderr
    assert "Traceback" not in done.stderr
    assert os.listdir(tmp_path) == []


def test_an_output_that_would_destroy_a_file_is_refused(tmp_path):
    data = tmp_path / "names.txt"
    shutil.copyfile(os.environ["MICROGPT_DATA"], data)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for out, message in [
        (data, "the same file as the dataset"),
        (fifo, "is not a regular file"),
    ]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "microgpt.bench",
                "--quick",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MICROGPT_DATA": str(data)},
        )
        assert done.returncode == 2
        assert f"--out {out}: {message}" in done.stderr
    assert data.read_bytes() == Path(os.environ["MICROGPT_DATA"]).read_bytes()
    assert fifo.exists() and not fifo.is_file()


def test_a_late_write_error_names_the_users_path(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "results"
    folder.mkdir()

    def run(*args):  # the folder goes away while the benchmark runs
        folder.rmdir()
        return {}

    monkeypatch.setattr(bench, "run", run)
    monkeypatch.setattr(bench, "print_table", lambda result: None)
    monkeypatch.setattr(bench, "limit_threads", lambda n: None)
    with pytest.raises(SystemExit) as e:
        bench.main(["--out", str(folder / "b.json")])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert f"error: cannot write {folder / 'b.json'}: " in err
    assert ".part" not in err
