"""Keeping freed memory: what glibc is asked to do, and the churn probe."""

import platform
import subprocess
import sys

import pytest

from microgpt import heap
from microgpt.bench.tools import heap_churn

pytestmark = pytest.mark.efficiency

GLIBC = platform.libc_ver()[0] == "glibc"

# A fresh process allocates a 1 MB block, reads glibc's accounts
# (mallinfo2: hblkhd is memory in blocks of their own mmap, fordblks the
# free bytes kept in the heap), frees it and reads them again.
PROBE = """
import ctypes, sys
from microgpt.heap import keep_freed_memory
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks "
                "uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = libc.mallinfo2()
block = libc.malloc(1 << 20)
alive = libc.mallinfo2()
libc.free(block)
after = libc.mallinfo2()
print(alive.hblkhd - before.hblkhd, after.fordblks - before.fordblks)
"""


def probe(mode):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [int(n) for n in done.stdout.split()]


def test_keep_freed_memory_works_on_glibc_only():
    assert heap.keep_freed_memory() is GLIBC
    assert heap.keep_freed_memory() is GLIBC  # and calling twice is fine


@pytest.mark.skipif(not GLIBC, reason="the knobs are glibc's")
def test_a_freed_block_stays_in_the_process():
    # By default a 1 MB block is mapped on its own and unmapped when
    # freed; kept, it comes from the heap, and the heap keeps it.
    mapped, _ = probe("plain")
    assert mapped >= 1 << 20
    mapped, kept = probe("keep")
    assert mapped == 0 and kept >= 1 << 20


def test_the_churn_probe_reports_both_ways(docs):
    plain, kept = heap_churn(False, 2), heap_churn(True, 2)
    assert plain["kept"] is False and kept["kept"] is GLIBC
    assert plain["faults_per_step"] >= 0 <= kept["faults_per_step"]
