"""The result of a job: N claps mixed into a short mono WAV, deterministic per job.

One noise-burst clap is synthesised once; a job mixes it N times at jittered positions
and gains. Work is proportional to N (only the span the claps cover is mixed), so one
clap costs well under a millisecond and a hundred a few tens of milliseconds.
"""

import io
import math
import random
import sys
import wave
from array import array
from functools import cache

from streams.messages import MAX_CLAPS

RATE = 16_000  # Hz, 16-bit mono
CLAP_SECONDS = 0.09
SHORTEST, LONGEST = 1.0, 3.0  # seconds of audio for 1 and for MAX_CLAPS claps
HEADROOM = 0.9 * 32767


@cache
def clap_shape() -> tuple[float, ...]:
    """One clap: a bright noise burst with a fast attack and an exponential decay."""
    rng = random.Random(1)  # noqa: S311 - sound, not secrets
    length = int(RATE * CLAP_SECONDS)
    attack, decay = int(RATE * 0.002), RATE * 0.015
    samples, previous = [], 0.0
    for i in range(length):
        noise = rng.uniform(-1.0, 1.0)
        bright = noise - 0.85 * previous  # first-order high-pass: a sharper, drier clap
        previous = noise
        envelope = i / attack if i < attack else math.exp(-(i - attack) / decay)
        samples.append(bright * envelope)
    peak = max(abs(s) for s in samples)
    return tuple(s / peak for s in samples)


def seconds_for(claps: int) -> float:
    return SHORTEST + (LONGEST - SHORTEST) * (claps - 1) / (MAX_CLAPS - 1)


def synthesize(claps: int, seed: str) -> bytes:
    """A WAV file of `claps` claps; the same seed always gives the same bytes."""
    if not 1 <= claps <= MAX_CLAPS:
        raise ValueError(f"claps must be 1 to {MAX_CLAPS}")
    shape = clap_shape()
    rng = random.Random(seed)  # noqa: S311 - deterministic on purpose
    total = int(RATE * seconds_for(claps))
    latest = total - len(shape)
    placements = sorted((rng.randrange(0, latest), rng.uniform(0.35, 1.0)) for _ in range(claps))
    start, end = placements[0][0], placements[-1][0] + len(shape)
    mix = [0.0] * (end - start)
    for position, gain in placements:
        at = position - start
        mix[at : at + len(shape)] = [
            m + gain * s for m, s in zip(mix[at : at + len(shape)], shape, strict=True)
        ]
    # Overlapping claps may add up past full scale: only then is the mix turned down.
    scale = HEADROOM / max(1.0, max(mix), -min(mix))
    pcm = array("h", [round(m * scale) for m in mix])
    if sys.byteorder == "big":
        pcm.byteswap()  # WAV samples are little-endian
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(bytes(2 * start) + pcm.tobytes() + bytes(2 * (total - end)))
    return out.getvalue()
