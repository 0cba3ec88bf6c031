"""Run several ``lienhop`` commands as one: start them, and stop them all together.

``lienhop demo run`` (what ``make run`` starts) needs the web server and a harvest worker at
once, so that "harvest now" in the browser is run. Each runs as its own child process, as in
production (gunicorn beside ``lienhop worker``); this module only starts them in order and
ends them together:

* Ctrl-C or SIGTERM (to this process, or to its whole process group as a terminal and
  ``make`` send it) stops every child: SIGTERM first, SIGKILL after ``stop_timeout``
  seconds; a second Ctrl-C kills at once;
* a child that ends by itself (a port already taken, a crash) stops the others too, and the
  exit status says it failed: a trial server that silently lost its worker is what this
  replaces.

A worker killed mid-harvest loses nothing: its job is queued again when a worker next starts
(resolver/harvesting/queue.py, ``recover_stale_jobs``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

#: how often the children are looked at
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Child:
    """One command to run: a name for the messages, and its command line."""

    name: str
    argv: tuple[str, ...]


def lienhop(name: str, *args: str) -> Child:
    """``lienhop ARGS`` as a child: this interpreter and this checkout's lienhop, whatever
    PATH holds (resolver/cli/__main__.py)."""
    return Child(name, (sys.executable, "-m", "resolver.cli", *args))


class _Signals:
    """SIGINT/SIGTERM/SIGHUP noted (not raised) while children run; restored afterwards."""

    WATCHED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Signals:
        for sig in self.WATCHED:
            self._previous[sig] = signal.signal(sig, self._note)
        return self

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]  # what signal() returned


def _stop_all(procs: Sequence[subprocess.Popen[bytes]], signals: _Signals,
              stop_timeout: float) -> None:
    """SIGTERM to every child still running, SIGKILL to those still there after
    ``stop_timeout`` seconds (or at once on another Ctrl-C); every child reaped."""
    already = len(signals.received)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + stop_timeout
    while any(p.poll() is None for p in procs):
        if time.monotonic() >= deadline or len(signals.received) > already:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
            break
        time.sleep(POLL_SECONDS / 2)
    for proc in procs:
        proc.wait()


def supervise(children: Sequence[Child], *, env: Mapping[str, str] | None = None,
              stop_timeout: float = 10.0, say: Callable[[str], None] = print) -> int:
    """Run ``children`` until a signal or until one of them ends; stop them all; the exit
    status: 0 after a signal, the ended child's status (1 when it was 0) otherwise."""
    procs: list[subprocess.Popen[bytes]] = []
    with _Signals() as signals:
        try:
            for child in children:
                if signals.received:
                    break
                procs.append(subprocess.Popen(list(child.argv), env=dict(env or os.environ)))
            while not signals.received:
                for child, proc in zip(children, procs, strict=False):
                    code = proc.poll()
                    if code is not None:
                        say(f"lienhop: {child.name} stopped (exit status {code}); "
                            "stopping the others")
                        return code or 1
                time.sleep(POLL_SECONDS)
            say("lienhop: stopping " + ", ".join(c.name for c in children[:len(procs)]))
            return 0
        finally:
            _stop_all(procs, signals, stop_timeout)
