"""The data-parallel chapter's checks pass right answers, fail wrong."""

import pytest

from microgpt.course.checks import CheckFailed
from microgpt.course.checks import data_parallel as checks

pytestmark = pytest.mark.torch


def shard_sizes(batch_size, nproc):
    size, extra = divmod(batch_size, nproc)
    return [size + (r < extra) for r in range(nproc)]


def test_shard_sizes_passes(capsys):
    checks.check_shard_sizes(shard_sizes)
    assert "✓ shard_sizes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, mistake",
    [
        (lambda B, N: [B // N] * N, "dropping the rest"),
        (
            lambda B, N: [B // N] * (N - 1) + [B // N + B % N],
            "whole remainder to the last",
        ),
        (
            lambda B, N: [B // N] * (N - B % N) + [B // N + 1] * (B % N),
            "remainder to the last processes",
        ),
    ],
)
def test_shard_sizes_names_each_typical_slip(wrong, mistake):
    with pytest.raises(CheckFailed, match=mistake):
        checks.check_shard_sizes(wrong)


def test_shard_sizes_refuses_an_unrelated_answer():
    with pytest.raises(CheckFailed, match="shard_sizes"):
        checks.check_shard_sizes(lambda B, N: [1] * N)


def global_mean(means, counts):
    return sum(m * c for m, c in zip(means, counts)) / sum(counts)


def test_global_mean_passes(capsys):
    checks.check_global_mean(global_mean)
    assert "✓ global_mean" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, mistake",
    [
        (lambda m, c: sum(m) / len(m), "mean of means"),
        (lambda m, c: sum(a * b for a, b in zip(m, c)), "without dividing"),
        (
            lambda m, c: sum(a * b for a, b in zip(m, c)) / len(m),
            "number of processes",
        ),
    ],
)
def test_global_mean_names_each_typical_slip(wrong, mistake):
    with pytest.raises(CheckFailed, match=mistake):
        checks.check_global_mean(wrong)


def ring_bytes(n_params, itemsize, nproc):
    return 2 * (nproc - 1) / nproc * n_params * itemsize


def test_ring_bytes_passes(capsys):
    checks.check_ring_bytes(ring_bytes)
    assert "✓ ring_bytes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, mistake",
    [
        (lambda n, s, N: (N - 1) / N * n * s, "reduce-scatter only"),
        (lambda n, s, N: 2 * (N - 1) * n * s, "whole gradient"),
        (lambda n, s, N: 2 * (N - 1) / N * n, "elements instead of bytes"),
    ],
)
def test_ring_bytes_names_each_typical_slip(wrong, mistake):
    with pytest.raises(CheckFailed, match=mistake):
        checks.check_ring_bytes(wrong)
