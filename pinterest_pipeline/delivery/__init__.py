"""Delivery: events table -> Pinterest API for Conversions, with a ledger for exactly-once sends.

`deliver()` is the one entry point the CLI and the Dagster assets share (`deliver_accounts()` /
`deliver_per_account()` split a routed events table between several ad accounts); `ledger_summary()` and
`delivery_accounting()` read the ledger it keeps.
"""

from pinterest_pipeline.delivery.accounting import (
    DeliveryAccounting,
    LedgerDaySummary,
    delivery_accounting,
    ledger_summary,
)
from pinterest_pipeline.delivery.accounts import deliver_accounts, deliver_per_account, total_report
from pinterest_pipeline.delivery.deliver import DeliveryReport, ProgressCallback, deliver
from pinterest_pipeline.delivery.errors import AuthError, EndpointError
from pinterest_pipeline.delivery.http_client import RetryPolicy
from pinterest_pipeline.delivery.ledger import LEDGER_TABLE, Status
from pinterest_pipeline.delivery.rate_limit import RollingWindowLimiter
from pinterest_pipeline.delivery.target import API_URL_ENV_VAR, DEFAULT_API_URL, TOKEN_ENV_VAR, PinterestTarget

__all__ = [
    "API_URL_ENV_VAR",
    "AuthError",
    "DEFAULT_API_URL",
    "DeliveryAccounting",
    "DeliveryReport",
    "EndpointError",
    "LEDGER_TABLE",
    "LedgerDaySummary",
    "PinterestTarget",
    "ProgressCallback",
    "RetryPolicy",
    "RollingWindowLimiter",
    "Status",
    "TOKEN_ENV_VAR",
    "deliver",
    "deliver_accounts",
    "deliver_per_account",
    "delivery_accounting",
    "ledger_summary",
    "total_report",
]
