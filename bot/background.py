"""A loop that runs as an asyncio task for as long as its owner is entered (``async with``)."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class BackgroundLoop(ABC):
    """Starts ``_loop`` as a task on entry and cancels it on exit; subclasses name the task and write the loop."""

    task_name = "background"
    _task: asyncio.Task[None] | None = None

    @abstractmethod
    async def _loop(self) -> None:
        """The work, until cancelled."""

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._loop(), name=self.task_name)
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
