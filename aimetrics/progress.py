"""Progress bars for long commands: rich, on stderr, silent when stderr is not a terminal.

Progress never goes to stdout, so the summary lines a command prints there stay
stable for scripts whatever the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _Task:
    def __init__(self, progress, task_id) -> None:
        self._progress, self._id = progress, task_id

    def advance(self, steps: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._id, steps)

    def update(self, completed: float | None = None, description: str | None = None,
               total: float | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._id, completed=completed, description=description, total=total)


@contextmanager
def progress(description: str, total: float | None) -> Iterator[_Task]:
    """A progress bar of ``total`` steps on stderr, or a no-op when stderr is not a TTY."""
    if not sys.stderr.isatty():
        yield _Task(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        yield _Task(bar, bar.add_task(description, total=total))
