"""Errors the CLI reports as a clear one-screen message, never a traceback."""


class AimetricsError(Exception):
    """A user-facing failure: the message names the table, column and rule."""
