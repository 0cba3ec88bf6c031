"""Records made ready for tantivy (:func:`index.tantivy_engine.schema.prepare`), in worker
processes when a rebuild is large enough to pay for them.

A rebuild's own work per record is Python (NFC, Vietnamese analysis of every text group,
the stored record, match keys, the title's sort key) and would keep one core busy while
tantivy's indexing thread waits for it; tantivy's commit in turn stops the Python side. So
the records go, in chunks, to worker processes, and come back in order as
:class:`~index.tantivy_engine.schema.Prepared` tuples (strings and bytes: cheap to send)
while the rebuilding process feeds tantivy and commits.

A worker is ``python -m index.tantivy_engine.prepare`` with the caller's ``sys.path``,
speaking length-prefixed pickles over its stdin and stdout: no fork of a process running
tantivy's or a web server's threads, and no re-import of the caller's main module (which
``multiprocessing``'s spawn and forkserver need, and which hangs a script that does not
guard its main). At most :data:`AHEAD` chunks are in flight, so memory stays flat whatever
the archive's size; a rebuild too small to fill one batch never starts a worker. A worker
ends when its stdin closes: also when the rebuilding process is killed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from itertools import chain, islice
from typing import IO, Any

from index.documents import nfc_record
from index.record import Record
from index.tantivy_engine.schema import Prepared, prepare

#: Records sent to a worker at once, and chunks in flight.
CHUNK = 250
AHEAD = 8
_LEN = struct.Struct("<Q")


def prepare_chunk(records: list[Record]) -> list[Prepared]:
    """NFC, then everything the document needs but its cluster."""
    return [prepare(nfc_record(r)) for r in records]


def default_procs() -> int:
    """Worker processes by default: one per core beyond the first, at least one (on two
    cores one worker and the rebuilding process with tantivy's thread share them)."""
    return max(1, (os.cpu_count() or 1) - 1)


def prepared(records: Iterable[Record], *, procs: int, start_after: int
             ) -> Generator[Prepared, None, None]:
    """``records`` prepared, in order: in this process for the first ``start_after``, then,
    when ``procs`` > 0 and more records come, by ``procs`` worker processes (ended when
    the records are, or when the generator is closed)."""
    it = iter(records)
    for rec in islice(it, start_after):
        yield prepare(nfc_record(rec))
    first = next(it, None)
    if first is None:
        return
    rest = chain([first], it)
    if procs <= 0:
        for rec in rest:
            yield prepare(nfc_record(rec))
        return
    workers = [_Worker() for _ in range(procs)]
    try:
        yield from _through(workers, _chunks(rest, CHUNK))
    except BaseException:  # also the caller closing this generator before its end
        for w in workers:
            w.kill()
        raise
    for w in workers:
        w.close()


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _through(workers: list[_Worker], chunks: Iterator[list[Record]]) -> Iterator[Prepared]:
    """The chunks prepared by the workers in turn, in order."""
    order: deque[_Worker] = deque()
    for i, chunk in enumerate(chunks):
        w = workers[i % len(workers)]
        w.send(chunk)
        order.append(w)
        if len(order) >= AHEAD:
            yield from order.popleft().receive()
    while order:
        yield from order.popleft().receive()


# ---------------------------------------------------------------- the two ends of a pipe


def _write_frame(out: IO[bytes], obj: Any) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(blob)))
    out.write(blob)
    out.flush()


def _read_frame(inp: IO[bytes]) -> Any:
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    (n,) = _LEN.unpack(head)
    blob = inp.read(n)
    if len(blob) < n:
        raise EOFError
    return pickle.loads(blob)  # noqa: S301  (our own child, over its own pipe)


class _Worker:
    """One worker process, fed by a thread (so that sending a chunk never waits for the
    worker to be read: a pipe holds less than a chunk)."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.proc = subprocess.Popen(  # noqa: S603  (this interpreter, this module)
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env)
        self._queue: queue.Queue[list[Record] | None] = queue.Queue()
        self._feeder = threading.Thread(target=self._feed, name="lienhop-prepare-feed",
                                        daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        try:
            while (chunk := self._queue.get()) is not None:
                _write_frame(self.proc.stdin, chunk)
        except (BrokenPipeError, OSError):
            pass  # the worker died: receive() says so
        finally:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def send(self, chunk: list[Record]) -> None:
        self._queue.put(chunk)

    def receive(self) -> list[Prepared]:
        assert self.proc.stdout is not None
        try:
            ok, value = _read_frame(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"a rebuild worker ended (exit {self.proc.wait()})") from None
        if not ok:
            raise RuntimeError(f"a rebuild worker failed:\n{value}")
        result: list[Prepared] = value
        return result

    def close(self) -> None:
        """End the worker once every chunk sent was received."""
        self._queue.put(None)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._release()

    def kill(self) -> None:
        """End the worker now (results not read would keep it writing)."""
        self.proc.kill()
        self.proc.wait()
        self._queue.put(None)
        self._release()

    def _release(self) -> None:
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _serve() -> None:
    """The worker's loop: chunks in on stdin, prepared chunks (or a traceback) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the rebuilding process decides
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the frames
    inp = sys.stdin.buffer
    while True:
        try:
            chunk = _read_frame(inp)
        except EOFError:
            return
        try:
            _write_frame(out, (True, prepare_chunk(chunk)))
        except Exception:  # noqa: BLE001  (sent back whole, raised by the caller)
            _write_frame(out, (False, traceback.format_exc()))


if __name__ == "__main__":
    _serve()
