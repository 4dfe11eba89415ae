"""The allocator tuning, kept here for chapter 13 until it imports heap.

keep_freed_memory lives in microgpt.heap, beside the command that uses it.
"""

from ..heap import keep_freed_memory

__all__ = ["keep_freed_memory"]
