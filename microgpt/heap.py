"""Keeping freed memory, so batched NumPy steps stop page-faulting.

A batched NumPy step makes arrays of a few hundred KB (the attention
scores, the MLP's hidden layer) and frees them all when it ends. glibc's
malloc hands free memory at the top of its heap back to the OS once there
is more than a threshold of it, so the next step gets it back page by
page, one page fault per 4 KB page (the efficiency chapter measures what
that costs). A profile of the Python calls does not show it: the time
is spent in the kernel.

keep_freed_memory raises glibc's thresholds, so the process keeps what it
frees for the next step. The command line and the benchmark call it; the
package never does on import, since it changes the whole process.
Only glibc (Linux) has these knobs; elsewhere the call does nothing.
"""

import ctypes

# glibc's mallopt parameters, from <malloc.h>.
M_TRIM_THRESHOLD = -1  # free bytes at the heap's top before it shrinks
M_MMAP_THRESHOLD = -3  # blocks this large get their own mmap instead

KEEP_BYTES = 64 << 20  # up to 64 MB of freed memory stays in the process
MMAP_BYTES = 32 << 20  # the ceiling of glibc's own adaptive threshold


def keep_freed_memory():
    """Ask malloc to keep freed memory for reuse; True if it could."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    # Setting either threshold switches off glibc's adaptive ones, so
    # both are set: arrays up to MMAP_BYTES come from the heap, and the
    # trim threshold keeps their memory there once they are freed.
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
        and mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)
    )
