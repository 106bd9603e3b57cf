"""Delivery building blocks without a network: rate limiter on virtual time, answer reading,
Retry-After, the target's secrecy, chunk bodies and bisection halves, the NDJSON loader."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from pinterest_pipeline.config import ConfigError, build_config
from pinterest_pipeline.delivery import PinterestTarget, RetryPolicy, RollingWindowLimiter
from pinterest_pipeline.delivery.chunks import EventChunk, chunk_record_batches
from pinterest_pipeline.delivery.ndjson import load_ndjson_events
from pinterest_pipeline.delivery.responses import (
    AnswerKind,
    EventResult,
    UnreadableAnswer,
    classify,
    describe_error,
    parse_retry_after,
    read_event_results,
)
from pinterest_pipeline.errors import InputError


class VirtualTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _acquire_times(limiter_args: tuple[int, float], count: int, pause: float = 0.0) -> list[float]:
    time = VirtualTime()
    limiter = RollingWindowLimiter(*limiter_args, clock=time.clock, sleep=time.sleep)
    if pause:
        limiter.pause_for(pause)

    async def run() -> list[float]:
        starts = []
        for _ in range(count):
            await limiter.acquire()
            starts.append(time.now)
        return starts

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("limit", "window", "count", "pause", "expected"),
    [
        (3, 1.0, 7, 0.0, [0, 0, 0, 1, 1, 1, 2]),
        (5000, 60.0, 5001, 0.0, [0] * 5000 + [60]),
        (10, 1.0, 11, 0.0, [0] * 10 + [1]),
        (2, 1.0, 3, 2.5, [2.5, 2.5, 3.5]),
    ],
    ids=["3-per-second", "pinterest-5000-per-minute", "test-mode-10-per-second", "retry-after-pause"],
)
def test_rolling_window_limiter_start_times(limit, window, count, pause, expected):
    assert _acquire_times((limit, window), count, pause) == pytest.approx(expected)


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_no_rolling_window_exceeds_the_limit(limit):
    """Concurrent acquirers with random think times: no window of the limiter's length, starting at
    any acquisition, holds more than `limit` of them."""
    time = VirtualTime()
    limiter = RollingWindowLimiter(limit, 1.0, clock=time.clock, sleep=time.sleep)
    rng = random.Random(limit)
    starts: list[float] = []

    async def worker() -> None:
        for _ in range(15):
            await limiter.acquire()
            starts.append(time.now)
            await time.sleep(rng.uniform(0, 0.3))

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(4)))

    asyncio.run(run())
    starts.sort()
    assert len(starts) == 60
    for index, start in enumerate(starts):
        assert sum(1 for t in starts[index:] if t < start + 1.0) <= limit


@pytest.mark.parametrize(
    ("status", "kind"),
    [(200, AnswerKind.PER_EVENT), (422, AnswerKind.PER_EVENT), (429, AnswerKind.RETRY), (500, AnswerKind.RETRY),
     (503, AnswerKind.RETRY), (408, AnswerKind.RETRY), (400, AnswerKind.INVALID), (413, AnswerKind.INVALID),
     (401, AnswerKind.AUTH), (403, AnswerKind.AUTH), (404, AnswerKind.NOT_FOUND), (409, AnswerKind.UNEXPECTED)],
)
def test_classify_status(status, kind):
    assert classify(status) is kind


ANSWER_200 = {
    "num_events_received": 3,
    "num_events_processed": 2,
    "events": [
        {"status": "processed", "error_message": None, "warning_message": None},
        {"status": "failed", "error_message": "Event timestamp is in the past."},
        {"status": "processed", "warning_message": "non-standard field"},
    ],
}
RESULTS = [
    EventResult(True),
    EventResult(False, "Event timestamp is in the past."),
    EventResult(True, None, "non-standard field"),
]


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, ANSWER_200), (422, {"code": 953, "message": "Not all events were processed", "details": ANSWER_200})],
    ids=["200", "422-details"],
)
def test_read_event_results_in_request_order(status, body):
    assert read_event_results(status, body, 3) == RESULTS


@pytest.mark.parametrize(
    ("status", "body", "sent", "message"),
    [
        (200, ANSWER_200, 4, "3 event results for 4 events sent"),
        (422, {"code": 953, "message": "x"}, 3, "no event results"),
        (200, {"events": [{"status": "done"}]}, 1, "event status of 'done'"),
        (200, None, 1, "no event results"),
    ],
)
def test_unreadable_answers(status, body, sent, message):
    with pytest.raises(UnreadableAnswer, match=message):
        read_event_results(status, body, sent)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": 4196, "message": "Invalid request: x"}, "HTTP 400 (code 4196): Invalid request: x"),
        ({"code": 8, "message": "Rate limit", "message_detail": "spam"}, "HTTP 400 (code 8): Rate limit spam"),
        (None, "HTTP 400"),
        ("<html>", "HTTP 400"),
    ],
)
def test_describe_error(body, expected):
    assert describe_error(400, body) == expected


NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0), ("0", 0.0), ("0.25", 0.25), ("-4", 0.0), (None, None), ("", None), ("soon", None), ("inf", None),
        ("Wed, 01 Jan 2025 12:00:30 GMT", 30.0), ("Wed, 01 Jan 2025 11:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("failed_attempts", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (10, 15.0, 30.0)],
)
def test_backoff_is_equal_jitter_of_doubling(failed_attempts, low, high):
    policy = RetryPolicy(backoff_base=0.5, backoff_max=30.0)
    rng = random.Random(0)
    waits = [policy.backoff(failed_attempts, rng) for _ in range(200)]
    assert low <= min(waits) and max(waits) <= high


def test_target_hides_the_token():
    target = PinterestTarget("549755885175", "s3cr3t-token", api_url="http://127.0.0.1:1", test_mode=True)
    assert "s3cr3t-token" not in repr(target) and "s3cr3t-token" not in str(target)
    assert target.events_url == "http://127.0.0.1:1/v5/ad_accounts/549755885175/events"
    assert target.query_params == {"test": "true"}
    assert PinterestTarget("1", "t").query_params == {}
    assert target.redact("echo s3cr3t-token back") == "echo *** back"


@pytest.mark.parametrize(
    ("ad_account", "token", "url", "message"),
    [
        ("12a", "t", "https://api.pinterest.com", "1 to 18 digits"),
        ("1" * 19, "t", "https://api.pinterest.com", "1 to 18 digits"),
        ("1", " ", "https://api.pinterest.com", "PINTEREST_ACCESS_TOKEN"),
        ("1", "t", "api.pinterest.com", "http:// or https://"),
    ],
)
def test_target_validation(ad_account, token, url, message):
    with pytest.raises(ConfigError, match=message):
        PinterestTarget(ad_account, token, api_url=url)


@pytest.mark.parametrize(
    ("size", "halves"),
    [(1000, (500, 500)), (125, (63, 62)), (2, (1, 1)), (3, (2, 1))],
)
def test_chunk_halves_keep_order(size, halves):
    chunk = EventChunk(np.arange(size), pa.array([f"{i}," for i in range(size)], pa.binary()))
    first, second = chunk.halves()
    assert (len(first), len(second)) == halves
    assert [*first.seqs, *second.seqs] == list(chunk.seqs)
    assert first.events.to_pylist() + second.events.to_pylist() == chunk.events.to_pylist()
    # Each half's body is its own events, in order.
    assert [first.body(), second.body()] == [
        b'{"data":[' + b",".join(str(i).encode() for i in part.seqs) + b"]}" for part in (first, second)
    ]


def test_chunking_regroups_batches():
    con = duckdb.connect()
    reader = con.sql("SELECT i AS seq, encode('e' || i || ',') AS event_json FROM range(2500) t(i)").to_arrow_reader(700)
    chunks = list(chunk_record_batches(reader, 1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 500]
    assert chunks[2].events[-1].as_py() == b"e2499," and chunks[1].seqs[0] == 1000


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"event_id":"a","event_name":"lead","event_time":1}', "not json"], "line 2 is not a JSON object"),
        (['{"event_name":"lead","event_time":1}'], "line 1 has no event_id"),
        (['{"event_id":"a","event_time":1}'], "line 1 has no event_name"),
        (['{"event_id":"a","event_name":"lead","event_time":"1"}'], "line 1 has no integer event_time"),
        (["[1, 2]"], "line 1 is not a JSON object"),
    ],
)
def test_ndjson_loader_names_the_bad_line(tmp_path, lines, message):
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        load_ndjson_events(duckdb.connect(), path, "send_events", build_config())


def test_ndjson_loader_keeps_lines_verbatim_and_days_in_partition_timezone(tmp_path):
    lines = [
        '{"event_name":"checkout","event_id":"a","event_time":1700000000,"custom_data":{"value":"1.50"}}',
        '{"event_name":"checkout","event_id":"b","event_time":1700020000}',
        '{"event_name":"checkout","event_id":"a","event_time":1700000000}',
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    con = duckdb.connect(str(tmp_path / "pipeline.duckdb"))
    loaded = load_ndjson_events(con, path, "send_events", build_config(partition_timezone="America/Los_Angeles"))
    con.execute("CHECKPOINT")  # read back from the compressed blocks on disk
    rows = con.execute("SELECT source_row, event_id, partition_day, event_json FROM send_events ORDER BY source_row").fetchall()
    storage = con.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('send_events') WHERE column_name = 'event_json'"
    ).fetchall()
    assert ("ZSTD",) in storage
    def day(epoch):  # PST, no DST in Nov
        return (datetime.fromtimestamp(epoch, timezone.utc) - timedelta(hours=8)).date()

    assert (loaded.events, loaded.duplicates) == (2, 1)
    assert rows == [(1, "a", day(1700000000), lines[0]), (2, "b", day(1700020000), lines[1])]
