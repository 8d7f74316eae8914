import io
import wave

import pytest

from worker.applause import RATE, synthesize


def _read(data: bytes):
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getparams(), wav.readframes(wav.getnframes())


@pytest.mark.parametrize("claps", [1, 2, 7, 50, 100])
def test_the_applause_is_a_short_mono_16_bit_wav(claps):
    data = synthesize(claps, "job-1")
    params, frames = _read(data)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, RATE)
    assert 0.5 <= params.nframes / RATE <= 3.0
    assert len(data) < 200_000
    assert any(frames)  # not silence


def test_more_claps_make_longer_applause():
    lengths = [_read(synthesize(n, "x"))[0].nframes for n in (1, 25, 100)]
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]


def test_it_is_deterministic_per_seed():
    assert synthesize(12, "a") == synthesize(12, "a")
    assert synthesize(12, "a") != synthesize(12, "b")


@pytest.mark.parametrize("claps", [0, 101])
def test_the_clap_count_is_checked(claps):
    with pytest.raises(ValueError, match="claps must be 1 to 100"):
        synthesize(claps, "x")
