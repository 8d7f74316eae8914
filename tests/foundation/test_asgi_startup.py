"""The web process keeps the objects of its start-up out of the garbage collector's way
(webapp/asgi.py): full collections had made most of a submission's p99."""

import os
import subprocess
import sys


def test_the_objects_of_start_up_are_frozen():
    code = "import gc, webapp.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DEBUG": "true"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10_000  # Django's and the site's objects
