"""A Dagster run of an instance whose rows go to two ad accounts by country (docs/accounts.md):
each account's events reach the fake under that account with its own token, rows of other
countries are rejected `no_ad_account`, and the upload's metadata has lines per account."""

from __future__ import annotations

from collections import Counter

import dagster as dg
import pytest

from pinterest_pipeline.fake_api import FakePinterestApi
from pinterest_pipeline.support.environment import variable_set
from tests.dagster_support import (  # noqa: F401  (fixtures)
    TOKEN_ENV,
    WAREHOUSE_KEYS,
    Pipeline,
    check_evaluations,
    day,
    materialization_metadata,
    warehouse,
)

pytestmark = pytest.mark.slow

US, CA = "549755885175", "549755885176"
CA_TOKEN_ENV = "PINTEREST_TEST_ACCESS_TOKEN_CA"
ROUTING = {"column": "country", "accounts": {"us": US, "ca": CA}}


@pytest.fixture
def routed(tmp_path, warehouse):
    """A pipeline routed by country to US and CA, against one fake serving both accounts."""
    with (
        dg.instance_for_test() as instance,
        FakePinterestApi(ad_account_id=US, access_token="token-us", other_accounts={CA: "token-ca"}) as api,
        variable_set(CA_TOKEN_ENV, "token-ca"),
    ):
        yield Pipeline(
            instance=instance,
            fake_api=api,
            state=tmp_path / "pipeline.duckdb",
            warehouse=warehouse,
            settings={"routing": ROUTING},
            overrides={"pinterest": {"accounts": {US: TOKEN_ENV, CA: CA_TOKEN_ENV}, "api_url": api.url}},
        )


def test_a_routed_run_delivers_each_accounts_events_to_it(routed):
    key = WAREHOUSE_KEYS[-1]
    result = routed.materialize(partition_key=key)

    expected = dict(
        routed.sql(
            "SELECT ad_account_id, count(*) FROM pinterest_events WHERE partition_day = $day GROUP BY 1",
            {"day": day(key)},
        )
    )
    received = Counter(event.ad_account_id for event in routed.fake_api.received)
    assert set(expected) == {US, CA} and received == expected
    assert {request.outcome for request in routed.fake_api.requests} == {"200"}
    ledger = dict(routed.sql("SELECT ad_account_id, count(*) FROM delivery_ledger WHERE status = 'delivered' GROUP BY 1"))
    assert ledger == expected

    (unrouted,) = routed.sql(
        "SELECT count(*) FROM pinterest_rejects WHERE partition_day = $day AND reason = 'no_ad_account'",
        {"day": day(key)},
    )[0]
    assert unrouted > 0  # the sample has customers outside the US and Canada, and guests without a country

    upload = materialization_metadata(result, "pinterest_upload")[key]
    assert (upload[f"delivered__{US}"], upload[f"delivered__{CA}"]) == (expected[US], expected[CA])
    assert upload["delivered"] == upload["sent_this_run"] == expected[US] + expected[CA]
    assert upload["ad_accounts"] == 2 and upload["still_to_send"] == 0
    assert check_evaluations(result)["accounts_for_every_row"].passed

    again = routed.materialize(dg.AssetSelection.assets("pinterest_upload"), partition_key=key)
    second = materialization_metadata(again, "pinterest_upload")[key]
    assert (second["sent_this_run"], second[f"delivered__{US}"]) == (0, expected[US])
    assert len(routed.fake_api.received) == expected[US] + expected[CA]
