"""The result of a job: N claps mixed into a short mono WAV, deterministic per job.

One noise-burst clap is synthesised once, at a few fixed loudness levels. A job
places its claps at jittered positions and levels; output = full scale x tanh(sum),
a soft limiter. Where claps overlap the samples are mixed one by one; a clap that
overlaps nothing is copied as ready-made bytes. So the work grows with N and one
clap costs only a few microseconds beyond writing the file.
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
SHORTEST, LONGEST = 0.5, 3.0  # seconds of audio for 1 and for MAX_CLAPS claps
LEVELS = 12  # loudness steps of a clap, from QUIETEST to 1.0
QUIETEST = 0.3
FULL_SCALE = 32767


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


def gain(level: int) -> float:
    return QUIETEST + (1.0 - QUIETEST) * level / (LEVELS - 1)


def _pcm(samples) -> bytes:
    pcm = array("h", [round(FULL_SCALE * math.tanh(s)) for s in samples])
    if sys.byteorder == "big":
        pcm.byteswap()  # WAV samples are little-endian
    return pcm.tobytes()


@cache
def _lone_clap(level: int) -> bytes:
    return _pcm([gain(level) * s for s in clap_shape()])


def seconds_for(claps: int) -> float:
    return SHORTEST + (LONGEST - SHORTEST) * (claps - 1) / (MAX_CLAPS - 1)


def _groups(placements: list[tuple[int, int]], length: int) -> list[list[tuple[int, int]]]:
    """Split sorted (position, level) placements into runs of overlapping claps."""
    groups: list[list[tuple[int, int]]] = []
    end = -1
    for position, level in placements:
        if position < end:
            groups[-1].append((position, level))
        else:
            groups.append([(position, level)])
        end = max(end, position + length)
    return groups


def _mix(group: list[tuple[int, int]], shape: tuple[float, ...]) -> bytes:
    start = group[0][0]
    mix = [0.0] * (max(p for p, _ in group) + len(shape) - start)
    for position, level in group:
        at, g = position - start, gain(level)
        mix[at : at + len(shape)] = [
            m + g * s for m, s in zip(mix[at : at + len(shape)], shape, strict=True)
        ]
    return _pcm(mix)


def synthesize(claps: int, seed: str) -> bytes:
    """A WAV file of `claps` claps; the same seed always gives the same bytes."""
    if not 1 <= claps <= MAX_CLAPS:
        raise ValueError(f"claps must be 1 to {MAX_CLAPS}")
    shape = clap_shape()
    rng = random.Random(seed)  # noqa: S311 - deterministic on purpose
    total = int(RATE * seconds_for(claps))
    latest = total - len(shape)
    placements = sorted((rng.randrange(latest), rng.randrange(LEVELS)) for _ in range(claps))
    frames = bytearray(2 * total)
    for group in _groups(placements, len(shape)):
        pcm = _lone_clap(group[0][1]) if len(group) == 1 else _mix(group, shape)
        frames[2 * group[0][0] : 2 * group[0][0] + len(pcm)] = pcm
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return out.getvalue()
