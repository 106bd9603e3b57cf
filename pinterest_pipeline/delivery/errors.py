"""Errors that stop a delivery run: the user must fix the token, its access or the API URL first."""

from __future__ import annotations

from pinterest_pipeline.errors import PipelineError


class AuthError(PipelineError):
    """Pinterest answered 401 or 403: the token is wrong or may not use the ad account.

    Raised at once, because every further request would be refused the same way. The message names
    the ad account and what to check, never the token's value.
    """


class EndpointError(PipelineError):
    """The API answered 404: the base URL or the ad account id does not lead to the events endpoint."""
