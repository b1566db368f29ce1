"""SIGTERM and SIGINT in the tap: stop at a safe point, write the last STATE, exit 128+signal.

singer-sdk's handler writes the state and exits 0 from wherever the main thread happens to be,
so a scheduler records a stopped sync as a success, and the STATE can land in the middle of a
RECORD line being written, or after records the writer had already sent and is about to send
again (a signal reaches Python's handler between any two bytecodes, even inside a write that
was interrupted). Here the handler only records the signal and raises `StopRequested` when the
main thread is not writing output; a write under way finishes first and raises it after. The
tap then writes the state of what it emitted (`on_stop`; TapBillcom.invoke), exits 128+signal,
as a shell reports a process a signal stopped. Installing a handler is `signal.signal`: no SDK
internals are touched.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals a scheduler or a terminal sends to stop a run.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequested(BaseException):
    """A stop signal arrived; raised in the main thread at a point where no output is half
    written. A BaseException, so no `except Exception` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """The process's handler of SIGTERM and SIGINT (install once, from the main thread)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        #: Set once the stop has been raised: writing the last STATE is not interrupted.
        self.stopping = False
        self._writing = 0
        self._logger = logging.getLogger("bill_core")
        #: What writes the last STATE once the stop was raised (the tap sets it).
        self.on_stop: Callable[[], None] | None = None

    def install(self, logger: logging.Logger) -> None:
        self._logger = logger
        if threading.current_thread() is not threading.main_thread():
            return  # (a tap built inside another program's thread keeps its handlers)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.signum is not None:  # a second signal: stop at once, as without a handler
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.signum = signum
        self._logger.warning(
            "%s received: stopping after the record being written; the last STATE follows "
            "(%s again to stop at once)",
            name,
            name,
        )
        if not self._writing:
            self._raise()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Output written inside is never cut by the stop; it is raised right after."""
        self._writing += 1
        try:
            yield
        finally:
            self._writing -= 1
        if self.signum is not None and not self._writing and not self.stopping:
            self._raise()

    def _raise(self) -> None:
        assert self.signum is not None
        self.stopping = True
        raise StopRequested(self.signum)


#: The tap's (one process, one handler).
STOP = StopSignals()
