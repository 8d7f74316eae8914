import pytest

from worker.offsets import Watermark


def test_the_watermark_moves_only_over_contiguous_finished_offsets():
    mark = Watermark()
    for offset in (10, 11, 12, 14):  # 13 was compacted away or is a control record
        mark.begin(offset)

    assert mark.finish(12) is None
    assert mark.finish(14) is None
    assert mark.finish(10) == 11
    assert mark.finish(11) == 15  # 12 and 14 were already confirmed
    assert mark.stored == 15


def test_an_unfinished_offset_holds_back_everything_after_it():
    mark = Watermark()
    for offset in range(5):
        mark.begin(offset)
    for offset in (1, 2, 3, 4):
        assert mark.finish(offset) is None
    assert mark.stored is None


def test_repeated_or_unknown_confirmations_change_nothing():
    mark = Watermark()
    mark.begin(3)
    mark.begin(4)
    assert mark.finish(7) is None
    assert mark.finish(4) is None
    assert mark.finish(4) is None
    assert mark.finish(3) == 5
    assert mark.finish(3) is None


def test_offsets_must_be_begun_in_order():
    mark = Watermark()
    mark.begin(5)
    with pytest.raises(ValueError, match="does not follow"):
        mark.begin(5)
