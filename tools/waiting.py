"""Waiting for a condition by polling it, for the tools and the tests alike."""

import time


def wait_until(condition, timeout: float = 60.0, what: str = "condition", tick=None, interval=0.05):
    """Call tick() (default: sleep `interval`) until condition() is truthy and return
    its value; raise TimeoutError after `timeout` seconds, naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        if tick is None:
            time.sleep(interval)
        else:
            tick()
