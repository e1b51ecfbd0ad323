"""The garbage collector paused around work that allocates many short-lived objects."""

import contextlib
import gc
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def paused() -> Iterator[Callable[[], object]]:
    """Automatic garbage collection off for the block; call what it yields between steps (a
    young collection, which frees the rare cycle). Bulk work (a sync's pages, a screening
    run's findings) allocates millions of short-lived objects that reference counting frees,
    and the full collections they set off scan every object the process holds
    (docs/performance.md#collector-paused-while-storing). The collector is the process's: the
    pause holds for its other threads too while it lasts (seconds, for a full run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if was_enabled:
            gc.enable()
