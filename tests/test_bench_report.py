"""The benchmark's report: ratios, goals and the table, on made-up rows."""

import io

import pytest
import torch

from microgpt.bench import report as bench_report

pytestmark = pytest.mark.efficiency


def row(impl, n_embd, n_layer, B, tokens_per_s):
    """A result row with just what the report reads."""
    return {
        "impl": impl,
        "n_embd": n_embd,
        "block_size": n_embd,
        "n_layer": n_layer,
        "batch_size": B,
        "T": n_embd,
        "step_ms": B * n_embd / tokens_per_s * 1e3,
        "tokens_per_s": tokens_per_s,
        "gflops": 1.0,
        "steps_per_repeat": 1,
        "repeats": 1,
    }


ROWS = [
    row("scalar", 16, 1, 1, 10.0),
    row("numpy", 16, 1, 1, 1000.0),
    row("numpy", 16, 1, 64, 4000.0),
    row("torch", 16, 1, 1, 500.0),
    row("torch", 16, 1, 64, 12000.0),
    row("numpy", 64, 1, 1, 300.0),
    row("numpy", 64, 1, 64, 600.0),
    row("torch", 64, 1, 1, 200.0),
    row("torch", 64, 1, 64, 900.0),
]
DEFAULT = {"speedup": {"numpy_vs_scalar": 1200.0}}
NAMES = {"gain": {"numpy": 5.0, "torch": 21.0}}


def test_ratios_divide_the_right_rows():
    small, mid = bench_report.ratios(ROWS, 64)
    assert small["numpy_batch_gain"] == pytest.approx(4.0)
    assert small["torch_batch_gain"] == pytest.approx(24.0)
    assert small["torch_vs_numpy_b1"] == pytest.approx(0.5)
    assert small["torch_vs_numpy_batched"] == pytest.approx(3.0)
    assert small["numpy_vs_scalar"] == pytest.approx(100.0)
    # no scalar row at (64, 64): no ratio against it
    assert "numpy_vs_scalar" not in mid
    assert mid["torch_vs_numpy_batched"] == pytest.approx(1.5)


def test_batching_goals_are_judged_only_at_their_batch_size():
    got = bench_report.targets(
        DEFAULT, NAMES, bench_report.ratios(ROWS, 64), 8
    )
    assert list(got) == ["numpy_vs_scalar_default"]


def test_targets_say_whether_each_goal_holds():
    got = bench_report.targets(
        DEFAULT, NAMES, bench_report.ratios(ROWS, 64), 64
    )
    assert got == {
        "numpy_vs_scalar_default": {
            "value": 1200.0,
            "target": 1000.0,
            "holds": True,
        },
        "numpy_B64_vs_B1_names": {
            "value": 5.0,
            "target": 20.0,
            "holds": False,
        },
        "torch_B64_vs_B1_names": {
            "value": 21.0,
            "target": 20.0,
            "holds": True,
        },
        "numpy_B64_vs_B1_16x16_L1": {
            "value": pytest.approx(4.0),
            "target": 20.0,
            "holds": False,
        },
        "torch_B64_vs_B1_16x16_L1": {
            "value": pytest.approx(24.0),
            "target": 20.0,
            "holds": True,
        },
        "torch_vs_numpy_B64_64x64_L1": {
            "value": pytest.approx(1.5),
            "target": 1.0,
            "holds": True,
        },
    }


def test_machine_info_names_the_cpu_and_versions():
    info = bench_report.machine_info(torch.device("cpu"))
    assert info["cores"] >= 1 and info["device"] == "cpu"
    assert info["cpu"] and info["numpy"] and info["torch"]
    assert info["blas"] and "num_threads" in info["blas"][0]
    assert "gpu" not in info


def test_the_table_shows_every_row_and_verdict():
    table = bench_report.ratios(ROWS, 64)
    result = {
        "machine": {"cpu": "a CPU", "cores": 2, "device": "cpu"},
        "settings": {"threads": 1, "batch_size": 64},
        "default": {
            "mean_T": 7.0,
            "docs": 3,
            "step_ms": {"scalar": 100.0, "numpy": 0.1, "torch": 0.5},
            "speedup": DEFAULT["speedup"],
        },
        "lengths": [
            {"impl": i, "T": 1, "step_ms": 1.0}
            for i in ("scalar", "numpy", "torch")
        ],
        "names": {
            "mean_T": 7.0,
            "real_share": 0.9,
            "real_share_one_per_row": 0.6,
            "batch_size": 64,
            "gain": NAMES["gain"],
            "results": [
                {
                    "impl": i,
                    "batch_size": b,
                    "step_ms": 1.0,
                    "tokens_per_s": 7.0,
                }
                for i in ("numpy", "torch")
                for b in (1, 64)
            ],
        },
        "heap": {
            "plain": {"step_ms": 2.5, "faults_per_step": 570.0},
            "kept": {"step_ms": 1.9, "faults_per_step": 0.0, "kept": True},
        },
        "results": ROWS,
        "ratios": table,
        "targets": bench_report.targets(DEFAULT, NAMES, table, 64),
    }
    out = io.StringIO()
    bench_report.print_table(result, file=out)
    text = out.getvalue()
    assert text.count("\n  numpy ") + text.count("\n  torch ") >= 8
    assert "numpy_B64_vs_B1_16x16_L1" in text and "MISSED" in text
    assert "torch_B64_vs_B1_16x16_L1" in text and "holds" in text
    assert (
        "real tokens 90% of the packed batch, 60% with one name "
        "to a row" in text
    )
    assert "torch B = 64 / B = 1: 21.0x" in text
    assert "freed memory plain    2.500 ms/step    570 page faults" in text
    assert "freed memory kept     1.900 ms/step      0 page faults" in text
    result["heap"] = None  # not glibc: nothing measured, and it says so
    out = io.StringIO()
    bench_report.print_table(result, file=out)
    assert "not measured: malloc here is not glibc's" in out.getvalue()


def test_the_stored_run_reports_data_parallel_scaling_and_its_causes():
    # The stored run quotes 1 and 2 processes side by side, with what
    # explains their ratio (chapter 14 reads the same numbers).
    result = bench_report.stored()
    parallel = result["data_parallel"]
    one, two = parallel["tokens_per_s"]
    assert parallel["nproc"] == [1, 2] and parallel["batch_size"] == 64
    assert parallel["ratio"] == pytest.approx(two / one)
    assert 0 < parallel["allreduce_s"] < parallel["step_s"][1]
    out = io.StringIO()
    bench_report.print_table(result, file=out)
    text = out.getvalue()
    assert (
        f"2 processes {two:10,.0f} tokens/s ({parallel['ratio']:.2f}x)" in text
    )
    assert "the all-reduce alone (no waiting)" in text
    assert "1 process on 2 threads" in text and "of the CPUs busy" in text
