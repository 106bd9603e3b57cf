"""One routed events table, several ad accounts (docs/accounts.md): each account's events reach
Pinterest under that account, with its token, through its own rate limiter, into its own ledger rows.
Real HTTP against one fake serving two accounts, each with its own token."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from pinterest_pipeline.config import ConfigError
from pinterest_pipeline.delivery import (
    AuthError,
    PinterestTarget,
    deliver,
    deliver_per_account,
    total_report,
)
from pinterest_pipeline.fake_api import FakePinterestApi
from tests.delivery_fixtures import FAST_RETRIES, RecordingLimiter, create_events_table, delivery_config

pytestmark = pytest.mark.timeout(60)

US, CA = "549755885175", "549755885176"
TOKENS = {US: "token-us", CA: "token-ca"}


def two_account_api() -> FakePinterestApi:
    return FakePinterestApi(ad_account_id=US, access_token=TOKENS[US], other_accounts={CA: TOKENS[CA]})


def route_events(con) -> None:
    """The `events` table routed: every third row (0, 3, 6, ...) goes to CA, the others to US."""
    con.execute("ALTER TABLE events ADD COLUMN ad_account_id VARCHAR")
    con.execute(f"UPDATE events SET ad_account_id = CASE WHEN source_row % 3 = 0 THEN '{CA}' ELSE '{US}' END")


def targets_for(api: FakePinterestApi, tokens: dict[str, str] = TOKENS) -> dict[str, PinterestTarget]:
    return {account: PinterestTarget(account, token, api_url=api.url) for account, token in tokens.items()}


def send_accounts(store, targets, *, config=None, rate_limiters=None):
    limiters = rate_limiters or {}
    return deliver_per_account(
        store.con,
        "events",
        targets,
        lambda table, target: store.session.deliver(
            table, target, config or delivery_config(), retry_policy=FAST_RETRIES,
            rate_limiter=limiters.get(target.ad_account_id),
        ),
    )


def test_each_account_gets_its_events_with_its_token(store):
    create_events_table(store.con, 3000)
    route_events(store.con)
    with two_account_api() as api:
        reports = send_accounts(store, targets_for(api))
        received = Counter(event.ad_account_id for event in api.received)
        outcomes = Counter((request.ad_account_id, request.outcome) for request in api.requests)
        by_account = {event.event_id: event.ad_account_id for event in api.received}
    # Rows 0, 3, 6, ... go to CA: 1000 of 3000.
    assert {account: report.delivered for account, report in reports.items()} == {US: 2000, CA: 1000}
    assert received == {US: 2000, CA: 1000}
    assert outcomes == {(US, "200"): 2, (CA, "200"): 1}  # chunks of at most 1000, per account
    assert by_account["ev-3"] == CA and by_account["ev-4"] == US
    ledger = dict(store.ledger_query("SELECT ad_account_id, count(*) FROM delivery_ledger GROUP BY 1"))
    assert ledger == {US: 2000, CA: 1000}
    total = total_report(reports.values())
    assert (total.delivered, total.requests, total.unsettled) == (3000, 3, 0)


def test_a_second_run_sends_nothing_again(store):
    create_events_table(store.con, 300)
    route_events(store.con)
    with two_account_api() as api:
        send_accounts(store, targets_for(api))
        again = send_accounts(store, targets_for(api))
        processed = api.processed_counts()
    assert {account: (r.sent, r.already_settled) for account, r in again.items()} == {US: (0, 200), CA: (0, 100)}
    assert set(processed.values()) == {1} and len(processed) == 300


def test_one_accounts_token_is_refused_for_the_other():
    """The fake is faithful: a token is good only for its own account (403), so a test that
    delivers both accounts proves each request carried the right token."""
    con = duckdb.connect()
    create_events_table(con, 10)
    with two_account_api() as api:
        with pytest.raises(AuthError, match="403"):
            deliver(con, "events", PinterestTarget(CA, TOKENS[US], api_url=api.url), delivery_config(),
                    retry_policy=FAST_RETRIES)


def test_each_account_has_its_own_rate_limiter(store):
    """A scaled-down limit of 5 requests per 0.5 s holds per account: each account's limiter saw
    exactly its own requests, and neither waited for the other's."""
    create_events_table(store.con, 1500)
    route_events(store.con)
    limiters = {account: RecordingLimiter(5, 0.5) for account in TOKENS}
    with two_account_api() as api:
        reports = send_accounts(
            store, targets_for(api), config=delivery_config(chunk_size=100, concurrency=4), rate_limiters=limiters
        )
        requests = Counter(request.ad_account_id for request in api.requests)
    assert requests == {US: 10, CA: 5}
    assert {account: len(limiter.started) for account, limiter in limiters.items()} == {US: 10, CA: 5}
    assert {account: report.requests for account, report in reports.items()} == {US: 10, CA: 5}
    # US's 6th..10th starts wait a window for its 1st..5th; CA's 5 requests fit in one window.
    us, ca = limiters[US].started, limiters[CA].started
    assert us[-1] - us[0] >= 0.5 - 0.001
    assert ca[-1] - ca[0] < 0.5


@pytest.mark.parametrize(
    "tokens, routed, message",
    [
        ({US: TOKENS[US]}, True, f"events go to ad account {CA}, which has no access token configured"),
        (TOKENS, False, "has no ad_account_id column, so it cannot be split between 2 ad accounts"),
    ],
)
def test_refused_before_anything_is_sent(tokens, routed, message):
    con = duckdb.connect()
    create_events_table(con, 30)
    if routed:
        route_events(con)
    with two_account_api() as api:
        with pytest.raises(ConfigError, match=message):
            deliver_per_account(con, "events", targets_for(api, tokens), lambda table, target: None)
        assert api.requests == []
