"""glibc malloc settings for the server's processes, so that a worker's memory stays flat.

glibc serves an allocation above its mmap threshold with its own ``mmap`` (given back to the
system on ``free``), smaller ones from its heaps (kept). The threshold is dynamic: each time
a large block is freed it rises to that block's size (up to 32 MiB). A registry worker
allocates many large, short-lived buffers (request bodies buffered per connection, blob
chunks read and hashed), so after the first big push the threshold sits above them, they
come from the heaps, and the heaps keep their peak: a worker's RSS grew with every round of
large pushes and pulls and never came back (measured: +60 MiB over three rounds of a 256 MiB
push, two pulls and 400 ranged reads, 2 workers). A fixed threshold keeps large buffers
mapped and returned; two arenas (glibc gives every allocating thread its own, up to 8 per
core) keep the threads' small allocations reusable across threads.

Set in the gunicorn master before it forks (the workers inherit them); an operator's own
``MALLOC_*`` environment settings win.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: blocks from this size on are mapped and unmapped on their own (glibc's initial value)
MMAP_THRESHOLD = 256 * 1024
#: arenas per process: the main one and one the threads share
ARENA_MAX = 2
# mallopt parameter numbers (glibc's malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc() -> list[str]:
    """Apply the settings not already set by the environment; return the ones applied
    (none where there is no glibc, e.g. musl, which has no ``mallopt``)."""
    wanted = {
        "MALLOC_MMAP_THRESHOLD_": (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        "MALLOC_ARENA_MAX": (_M_ARENA_MAX, ARENA_MAX),
    }
    name = ctypes.util.find_library("c")
    if name is None:
        return []
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return []
    return [
        variable
        for variable, (param, value) in wanted.items()
        if not os.environ.get(variable) and mallopt(param, value) == 1
    ]
