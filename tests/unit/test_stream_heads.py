"""StreamHeads: a stream's last event is found whether it is in memory or went to disk."""

from __future__ import annotations

from lineagelog.adapters.stream_heads import StreamHeads


def test_heads_beyond_what_is_kept_go_to_disk_and_come_back() -> None:
    heads = StreamHeads(kept=5)

    for i in range(50):
        heads[f"s{i}"] = (1, f"h{i}", i)
    heads["s3"] = (2, "h3b", 60)  # a stream on disk comes back, and moves on

    assert len(heads) <= 5
    assert [heads.get(f"s{i}") for i in (0, 3, 49)] == [
        (1, "h0", 0),
        (2, "h3b", 60),
        (1, "h49", 49),
    ]
    assert heads.get("never") is None


def test_a_head_updated_after_it_went_to_disk_reads_its_latest_value_when_it_goes_again() -> None:
    heads = StreamHeads(kept=2)
    heads["a"] = (1, None, 1)
    heads["b"] = (1, "x", 2)
    heads["c"] = (1, "y", 3)  # "a" goes to disk
    heads["a"] = (2, "z", 4)
    for i in range(10):  # everything goes to disk again
        heads[f"n{i}"] = (1, None, 10 + i)

    assert heads.get("a") == (2, "z", 4)
    heads.close()  # what was on disk is dropped
    assert heads.get("a") is None
