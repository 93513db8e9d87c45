from __future__ import annotations

from lineagelog.domain.seal import LogSeal


def replay(events):
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def test_a_seal_stream_resumed_from_its_last_event_continues_like_a_full_replay():
    seal = LogSeal.open()
    seal.seal(up_to_position=10, event_count=10, digest="a" * 64)
    seal.seal(up_to_position=25, event_count=24, digest="b" * 64)
    events = seal.collect_events()
    full, resumed = replay(events), LogSeal.resume(events[-1])

    full.seal(up_to_position=30, event_count=29, digest="c" * 64)
    resumed.seal(up_to_position=30, event_count=29, digest="c" * 64)
    (from_full,) = full.collect_events()
    (from_resumed,) = resumed.collect_events()

    assert vars(from_resumed) | {"timestamp": None} == vars(from_full) | {"timestamp": None}
    assert (resumed.version, resumed.digest) == (full.version, full.digest)


def test_a_seal_stream_with_only_its_opening_resumes_empty():
    seal = LogSeal.open()
    (opened,) = seal.collect_events()

    resumed = LogSeal.resume(opened)

    assert (resumed.up_to_position, resumed.event_count, resumed.version) == (0, 0, 1)
