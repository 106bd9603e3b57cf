"""Delivery against the fake Pinterest API over real HTTP on 127.0.0.1 (docs/delivery.md).

Each test states one promise of the delivery guarantee and checks it on both sides: the ledger
(what the pipeline believes) and the fake's record of what it processed (what Pinterest would count).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter

import orjson
import pytest

from pinterest_pipeline.delivery import AuthError, RetryPolicy
from pinterest_pipeline.fake_api import FakePinterestApi, Faults
from tests.delivery_fixtures import (
    FAST_RETRIES,
    RecordingLimiter,
    create_events_table,
    delivery_config,
    recent_epoch,
    target_for,
)

pytestmark = pytest.mark.timeout(60)


def send(store, api, *, config=None, policy=FAST_RETRIES, **kwargs):
    """One delivery run of the table `events` through the store's session, as the CLI and assets run it."""
    return store.session.deliver(
        "events", kwargs.pop("target", None) or target_for(api), config or delivery_config(), retry_policy=policy, **kwargs
    )


def test_chunks_of_1000_in_source_order(store):
    """2,500 events make exactly three requests of 1000, 1000 and 500, in source order."""
    create_events_table(store.con, 2500)
    with FakePinterestApi() as api:
        report = send(store, api, config=delivery_config(concurrency=1))
        sizes = [request.events for request in api.requests]
        received_order = [event.event_id for event in api.received]
    assert sizes == [1000, 1000, 500]
    assert received_order == [f"ev-{i}" for i in range(2500)]
    assert (report.sent, report.delivered, report.requests, report.unsettled) == (2500, 2500, 3, 0)
    assert set(store.ledger_rows().values()) == {("delivered", 1, None)}


@pytest.mark.parametrize("partial_422", [False, True], ids=["failed-in-200", "failed-in-422"])
def test_per_event_failures_recorded_and_not_resent(store, partial_422):
    """Events Pinterest refuses one by one are `failed` with its message, the rest delivered; a second
    run sends nothing (failed events wait for --resend-failed)."""
    create_events_table(store.con, 600)
    store.con.execute("UPDATE events SET event_json = replace(event_json, CAST(event_time AS VARCHAR), '1000000000'), "
                "event_time = 1000000000 WHERE source_row % 100 = 7")
    with FakePinterestApi(faults=Faults(partial_422=partial_422)) as api:
        first = send(store, api)
        outcomes = Counter(request.outcome for request in api.requests)
        second = send(store, api)
        requests_after_second = len(api.requests)
    assert outcomes == {("422" if partial_422 else "200"): 1}
    assert (first.delivered, first.failed, first.unsettled) == (594, 6, 0)
    rows = store.ledger_rows()
    failed = {event_id: row for event_id, row in rows.items() if row[0] == "failed"}
    assert sorted(failed) == sorted(f"ev-{i}" for i in range(7, 600, 100))
    assert all("older than 7 days" in error for _, _, error in failed.values())
    assert (second.sent, second.already_settled, requests_after_second) == (0, 600, 1)


def test_resend_failed_sends_only_the_failed(store):
    create_events_table(store.con, 50)
    with FakePinterestApi(faults=Faults(fail_rate=0.2), seed=3) as api:
        first = send(store, api)
        api.set_faults(fail_rate=0.0)
        again = send(store, api, resend_failed=True)
        counts = api.processed_counts()
    assert first.failed > 0
    assert (again.sent, again.delivered, again.already_settled) == (first.failed, first.failed, first.delivered)
    assert set(counts.values()) == {1} and len(counts) == 50


@pytest.mark.parametrize(
    "faults",
    [
        Faults(rate_429=0.5),
        Faults(rate_5xx=0.5),
        Faults(script=("503",) * 5),
    ],
    ids=["429-storm", "5xx-half", "5xx-burst"],
)
def test_retries_deliver_everything_exactly_once(store, faults):
    create_events_table(store.con, 3000)
    config = delivery_config(chunk_size=250)
    with FakePinterestApi(faults=faults, seed=11) as api:
        report = send(store, api, config=config, policy=RetryPolicy(max_attempts=12, backoff_base=0.005, backoff_max=0.02))
        counts = api.processed_counts()
    assert report.retries > 0 and report.delivered == 3000 and report.unsettled == 0
    assert len(counts) == 3000 and set(counts.values()) == {1}


def test_backoff_doubles_between_attempts(store):
    """One request failing four times in a row: the gaps between its attempts grow, each at least half
    its nominal backoff (equal jitter)."""
    create_events_table(store.con, 10)
    policy = RetryPolicy(max_attempts=5, backoff_base=0.05, backoff_max=1.0)
    with FakePinterestApi(faults=Faults(script=("503",) * 4)) as api:
        report = send(store, api, policy=policy)
        arrivals = [request.arrived_at for request in api.requests]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert report.delivered == 10 and len(arrivals) == 5
    for attempt, gap in enumerate(gaps, start=1):
        assert gap >= 0.05 * 2 ** (attempt - 1) / 2


def test_retry_after_is_honoured(store):
    create_events_table(store.con, 10)
    with FakePinterestApi(faults=Faults(script=("429",), retry_after=0.4)) as api:
        report = send(store, api, policy=RetryPolicy(max_attempts=3, backoff_base=0.001))
        first, second = (request.arrived_at for request in api.requests)
    assert report.delivered == 10
    assert second - first >= 0.4


def test_attempts_exhausted_become_failed_retryable_then_next_run_delivers(store):
    create_events_table(store.con, 100)
    with FakePinterestApi(faults=Faults(rate_5xx=1.0)) as api:
        first = send(store, api, policy=RetryPolicy(max_attempts=3, backoff_base=0.001))
        api.set_faults(rate_5xx=0.0)
        second = send(store, api)
        counts = api.processed_counts()
    assert (first.failed_retryable, first.requests, first.unsettled) == (100, 3, 100)
    assert {row[0] for row in store.ledger_rows().values()} == {"delivered"}
    assert (second.sent, second.delivered) == (100, 100)
    assert set(counts.values()) == {1} and len(counts) == 100


def test_dropped_before_processing_leaves_no_duplicates(store):
    create_events_table(store.con, 2000)
    with FakePinterestApi(faults=Faults(drop_before=0.5), seed=5) as api:
        report = send(store, api, config=delivery_config(chunk_size=200))
        counts = api.processed_counts()
        drops = sum(request.outcome == "drop_before" for request in api.requests)
    assert drops > 0 and report.delivered == 2000
    assert len(counts) == 2000 and set(counts.values()) == {1}


def test_dropped_after_processing_resends_only_those_requests(store):
    """A lost answer is the one case of a repeat: exactly the events of requests whose connection was
    closed after processing are processed again, once per such request."""
    create_events_table(store.con, 2000)
    with FakePinterestApi(faults=Faults(drop_after=0.4), seed=9) as api:
        report = send(store, api, config=delivery_config(chunk_size=100))
        counts = api.processed_counts()
        dropped_request_ids = {r.request_id for r in api.requests if r.outcome == "drop_after"}
        lost_answers = Counter(e.event_id for e in api.received if e.request_id in dropped_request_ids)
    assert dropped_request_ids and report.delivered == 2000 and report.unsettled == 0
    assert len(counts) == 2000
    assert {event_id: n - 1 for (event_id, _), n in counts.items() if n > 1} == dict(lost_answers)


def test_client_timeout_drops_request_at_server(store):
    """A request the client gave up on (timeout) is dropped by the server, never processed."""
    create_events_table(store.con, 20)
    with FakePinterestApi(faults=Faults(latency_ms=400)) as api:
        first = send(store, api, config=delivery_config(request_timeout=0.1), policy=RetryPolicy(max_attempts=2, backoff_base=0.001))
        time.sleep(0.5)  # let the server finish the abandoned requests
        abandoned = Counter(request.outcome for request in api.requests)
        api.set_faults(latency_ms=0)
        second = send(store, api)
        counts = api.processed_counts()
    assert (first.failed_retryable, abandoned) == (20, {"client_gone": 2})
    assert second.delivered == 20 and set(counts.values()) == {1}


@pytest.mark.parametrize(
    ("token", "ad_account", "expected"),
    [
        ("wrong-token-value-123", None, "Pinterest refused the access token for ad account 549755885175"),
        (None, "123456789", "may not send events to ad account 123456789"),
    ],
    ids=["401", "403"],
)
def test_auth_errors_stop_the_run_without_leaking_the_token(store, caplog, token, ad_account, expected):
    create_events_table(store.con, 5000)
    caplog.set_level(logging.DEBUG)
    with FakePinterestApi() as api:
        target = target_for(api, token=token, ad_account=ad_account)
        with pytest.raises(AuthError) as raised:
            send(store, api, target=target, config=delivery_config(chunk_size=100, concurrency=2))
        requests = len(api.requests)
    secret = target.access_token
    assert expected in str(raised.value)
    assert requests <= 2  # stopped at once: only what was in flight
    for text in [str(raised.value), repr(raised.value), repr(target), *(r.getMessage() for r in caplog.records)]:
        assert secret not in text
    statuses = Counter(row[0] for row in store.ledger_rows().values())
    assert statuses["delivered"] == 0 and sum(statuses.values()) == 5000


def test_bad_event_isolated_by_bisection(store):
    """One event Pinterest's schema refuses sinks its request (400); bisection finds it with about
    2*log2(1000) more requests, records it rejected with Pinterest's message, delivers the other 999."""
    create_events_table(store.con, 1000, invalid_rows=[613])
    with FakePinterestApi() as api:
        report = send(store, api)
        counts = api.processed_counts()
    rows = store.ledger_rows()
    assert (report.delivered, report.rejected, report.unsettled) == (999, 1, 0)
    assert rows["ev-613"][0] == "rejected"
    assert "Invalid request" in rows["ev-613"][2] and "category_name" in rows["ev-613"][2]
    assert 1 + 10 <= report.requests <= 1 + 2 * math.ceil(math.log2(1000))
    assert len(counts) == 999 and set(counts.values()) == {1}


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[index:] if t - start < window) for index, start in enumerate(times))


def test_rate_limit_never_exceeded_in_any_window(store):
    """A scaled-down limit (5 requests per 0.5 s) holds in every rolling window of request starts,
    and the server saw no request the limiter did not let through.

    At the server, arrivals lag the starts by the loopback transit, which is not constant (a new
    connection's first request lags most): its windows are checked shorter by the largest lag
    measured in this run, plus 20 ms.
    """
    create_events_table(store.con, 3000)
    limiter = RecordingLimiter(5, 0.5)
    with FakePinterestApi() as api:
        report = send(store, api, config=delivery_config(chunk_size=100, concurrency=4), rate_limiter=limiter)
        arrivals = sorted(request.arrived_at for request in api.requests)
    assert report.delivered == 3000 and len(arrivals) == len(limiter.started) == 30
    assert _most_in_any_window(limiter.started, 0.5) <= 5
    lag = max(arrived - started for arrived, started in zip(arrivals, sorted(limiter.started)))
    assert _most_in_any_window(arrivals, 0.5 - lag - 0.02) <= 5
    # The 26th start waits for the 21st to be a window old, and so on back to the 1st.
    assert limiter.started[-1] - limiter.started[0] >= (30 / 5 - 1) * 0.5 - 0.001


def test_test_mode_sends_test_true_and_leaves_production_alone(store):
    create_events_table(store.con, 1500)
    with FakePinterestApi() as api:
        test_report = send(store, api, target=target_for(api, test_mode=True))
        test_requests = api.requests
        production = store.session.delivery_accounting("events", api.ad_account_id)
        prod_report = send(store, api)
        flags = Counter(event.test for event in api.received)
    assert test_report.delivered == 1500 and all(request.test for request in test_requests)
    assert (production.delivered, production.not_staged) == (0, 1500)
    assert prod_report.delivered == 1500 and flags == {True: 1500, False: 1500}
    assert store.session.delivery_accounting("events", api.ad_account_id).delivered == 1500


def test_warnings_counted_and_kept(store):
    """A processed event with a warning is delivered; the warning is counted and kept in the ledger.
    (The fake warns on non-standard event names, as Pinterest warns on non-standard fields.)"""
    create_events_table(store.con, 10)
    store.con.execute("""UPDATE events SET event_name = 'shoe_try_on',
                   event_json = replace(event_json, '"checkout"', '"shoe_try_on"') WHERE source_row = 0""")
    with FakePinterestApi() as api:
        report = send(store, api)
    warnings = dict(store.ledger_query("SELECT event_id, warning FROM delivery_ledger WHERE warning IS NOT NULL"))
    message = "event_name 'shoe_try_on' is not a standard event."
    assert (report.delivered, report.warnings, report.warning_messages) == (10, 1, {message: 1})
    assert warnings == {"ev-0": message}


def test_partition_days_limit_the_send(store):
    create_events_table(store.con, 10, event_time=recent_epoch(hours_ago=1))
    store.con.execute("UPDATE events SET partition_day = partition_day - 1 WHERE source_row < 4")
    day = store.con.execute("SELECT min(partition_day) FROM events").fetchone()[0]
    with FakePinterestApi() as api:
        report = send(store, api, partition_days=[day])
        accounting = store.session.delivery_accounting("events", api.ad_account_id)
    assert (report.events_considered, report.delivered) == (4, 4)
    assert (accounting.events, accounting.delivered, accounting.not_staged, accounting.balanced) == (10, 4, 6, True)


def test_request_bodies_are_the_event_texts_joined(store):
    """Bodies are built from the stored JSON texts, byte for byte, read as the send plan reads them
    (each text followed by its comma) in batches that do not line up with the chunks; halves of a
    chunk (the 400 bisection) are bodies of their own events."""
    create_events_table(store.con, 7)
    texts = [row[0] for row in store.con.execute("SELECT event_json FROM events ORDER BY source_row").fetchall()]
    from pinterest_pipeline.delivery.chunks import chunk_record_batches

    reader = store.con.sql(
        "SELECT source_row AS seq, encode(event_json || ',') AS event_json FROM events ORDER BY source_row"
    ).to_arrow_reader(2)
    chunks = list(chunk_record_batches(reader, chunk_size=3))
    assert [list(chunk.seqs) for chunk in chunks] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [chunk.body() for chunk in chunks] == [
        ('{"data":[' + ",".join(texts[start : start + 3]) + "]}").encode() for start in (0, 3, 6)
    ]
    first, second = chunks[0].halves()
    assert (list(first.seqs), list(second.seqs)) == ([0, 1], [2])
    assert second.body() == ('{"data":[' + texts[2] + "]}").encode()
    body = chunks[0].body()
    assert orjson.loads(body)["data"][2]["event_id"] == "ev-2"
