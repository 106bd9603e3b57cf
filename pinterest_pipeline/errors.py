"""Exceptions that reach the user as one clear line (the CLI prints them without a traceback)."""


class PipelineError(Exception):
    """An error the user can act on; its message is complete on its own and never holds a secret."""

    exit_code = 2


class InputError(PipelineError):
    """An input file or table is missing, unreadable, of the wrong format or lacks a required column."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB errors carry multi-line context)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
