"""Keeping freed memory: batched NumPy steps stop page-faulting."""

import platform

import pytest

from microgpt import heap
from microgpt.bench_tools import heap_churn

pytestmark = pytest.mark.efficiency


def test_keep_freed_memory_works_on_glibc_only():
    glibc = platform.libc_ver()[0] == "glibc"
    assert heap.keep_freed_memory() is glibc
    assert heap.keep_freed_memory() is glibc  # and calling twice is fine


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                    reason="the knobs are glibc's")
def test_batched_steps_stop_page_faulting(docs):
    plain, kept = heap_churn(False, 2), heap_churn(True, 2)
    assert plain["kept"] is False and kept["kept"] is True
    # Left to itself, glibc gives the step's arrays back every step (a
    # few hundred 4 KB pages); kept, the next step reuses them.
    assert plain["faults_per_step"] > 100
    assert kept["faults_per_step"] < 5
