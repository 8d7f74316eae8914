"""Keeping a long-running process's start-up objects out of the garbage collector's way.

Python's full collection walks every container object alive, and a process that has
imported Django, DRF, confluent-kafka and its apps holds over a hundred thousand of
them, all alive until it exits. A full collection paused the recorder for far longer
than a job takes from the worker to a socket, and a `done` on a socket waits for the
recorder to store its applause, so those pauses showed as a live view's latency tail.
Frozen objects are skipped by every collection; what the process allocates later is
collected as before.
"""

import gc


def freeze_startup_objects() -> None:
    """Call once start-up is over, before the process's steady work begins."""
    gc.collect()  # what start-up left behind is freed, not frozen
    gc.freeze()
