"""Running a command for what it prints: one place that captures the output and turns
a failure into the caller's own error, with the command's words in it."""

import subprocess


def run(
    argv: list[str], error: type[Exception], *, what: str = "", check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run argv with its output captured as text. With check, a non-zero exit raises
    `error` naming the command (`what`, else its first words) and what it printed."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if check and done.returncode != 0:
        name = what or " ".join(str(arg) for arg in argv[:3])
        said = (done.stderr or done.stdout).strip()
        raise error(f"{name} failed (exit {done.returncode}):\n{said}")
    return done
