"""Checks for the data-parallel chapter: the split, the mean, the ring."""

from ... import distributed
from . import CheckFailed, check_close, check_equal, passed
from .exercise import exercise

# (batch_size, nproc): even splits, uneven ones, one process.
_SPLITS = ((8, 2), (7, 2), (7, 3), (64, 5), (5, 1), (3, 3))


def _reference_sizes(batch_size, nproc):
    """The package's split: the first B % N processes take one more."""
    spans = [distributed.shard(batch_size, r, nproc) for r in range(nproc)]
    return [stop - start for start, stop in spans]


def _split_mistakes(B, N):
    """What each common slip in the split gives."""
    size, extra = divmod(B, N)
    return {
        "giving every process B // N documents, dropping the rest": [size] * N,
        "giving the whole remainder to the last process": [size] * (N - 1)
        + [size + extra],
        "giving the remainder to the last processes": [size] * (N - extra)
        + [size + 1] * extra,
    }


@exercise(1, points=1, forbids=(_reference_sizes,))
def check_shard_sizes(shard_sizes):
    """shard_sizes(batch_size, nproc) -> each process's document count."""
    got = {(B, N): list(shard_sizes(B, N)) for B, N in _SPLITS}
    for B, N in _SPLITS:
        want = _reference_sizes(B, N)
        if got[B, N] == want:
            continue
        # A slip is named when it gives every answer of the solution.
        for mistake in _split_mistakes(B, N):
            if all(
                got[b, n] == _split_mistakes(b, n)[mistake] for b, n in _SPLITS
            ):
                raise CheckFailed(
                    f"shard_sizes({B}, {N}): got "
                    f"{got[B, N]}, expected {want}; this "
                    f"is what {mistake} gives",
                    mistake,
                )
        check_equal(f"shard_sizes({B}, {N})", got[B, N], want)
    passed("shard_sizes")


# (per-process mean losses, per-process token counts)
_SHARES = (
    ([2.0, 3.0], [10, 30]),
    ([3.2, 2.9, 3.5], [41, 38, 12]),
    ([1.5], [7]),
    ([2.5, 2.5], [5, 50]),
)


@exercise(2, points=1)
def check_global_mean(global_mean):
    """global_mean(means, counts) -> the whole batch's mean loss."""
    for means, counts in _SHARES:
        what = f"global_mean({means}, {counts})"
        want = sum(m * c for m, c in zip(means, counts)) / sum(counts)
        mistakes = {
            "averaging the means (the mean of means)": sum(means) / len(means),
            "summing the token-weighted losses without dividing": sum(
                m * c for m, c in zip(means, counts)
            ),
            "dividing by the number of processes": sum(
                m * c for m, c in zip(means, counts)
            )
            / len(means),
        }
        check_close(
            what,
            global_mean(list(means), list(counts)),
            want,
            tol=1e-12,
            mistakes=mistakes,
        )
    passed("global_mean")


@exercise(3, points=1)
def check_ring_bytes(ring_bytes):
    """ring_bytes(n_params, itemsize, nproc) -> bytes a process sends."""
    for n, size, N in (
        (4192, 8, 2),
        (4192, 8, 4),
        (124_439_808, 4, 8),
        (1000, 4, 1),
    ):
        what = f"ring_bytes({n}, {size}, {N})"
        want = 2 * (N - 1) / N * n * size
        mistakes = {
            "counting the reduce-scatter only": (N - 1) / N * n * size,
            "sending the whole gradient at every step": 2 * (N - 1) * n * size,
            "counting elements instead of bytes": 2 * (N - 1) / N * n,
        }
        check_close(
            what, ring_bytes(n, size, N), want, tol=1e-9, mistakes=mistakes
        )
    passed("ring_bytes")
