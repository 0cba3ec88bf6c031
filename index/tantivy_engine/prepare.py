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
guard its main). At most :data:`AHEAD` chunks are in flight (and as many held here, see
below), so memory stays flat whatever the archive's size; a rebuild too small to fill one
batch never starts a worker. A worker ends when its stdin closes: also when the rebuilding
process is killed.

A rebuild from raw items (index/convert.py) sends the items, not Records: the worker turns
each into a Record with the caller's function (named in the worker's first frame) and
prepares it in the same step, so parsing and crosswalking leave the rebuilding process too
(at 1M archived records they were ~70 % of its time). An item that makes no Record comes
back as the str saying why, in its place, and is passed to the caller's ``failed`` here.
The worker then has more to do than this process (at 100k on two cores, one worker: ~50 CPU
s against ~25), so whenever :data:`AHEAD` chunks are in flight and the oldest is not back
yet, this process prepares the next chunk itself instead of waiting: the work is shared
as the processes keep pace, on a quiet machine or a busy one. (Measured at 100k, bench/
rebuild.py: this process then makes ~40 % of the Records, 45 CPU s here and 24 in the
worker, and the rebuild is the fastest of the variants tried; holding back, one chunk
taken per three, evened the CPU out at 37/30 s but left each waiting for the other, and
two workers without taking any were no faster, with one more process.)
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import chain, islice
from typing import IO, Any

from index.convert import Converter, Failed, load, report
from index.documents import nfc_record
from index.record import Record
from index.tantivy_engine.schema import Prepared, prepare

#: Records sent to a worker at once, and chunks in flight.
CHUNK = 250
AHEAD = 8
_LEN = struct.Struct("<Q")


#: One input (a Record, or a raw item) made ready, or why it cannot be (a str).
Step = Callable[[Any], Prepared | str]


def prepare_record(record: Record) -> Prepared:
    """NFC, then everything the document needs but its cluster."""
    return prepare(nfc_record(record))


def step_for(convert: str | None) -> Step:
    """What a worker does with one input: prepare a Record; or, with ``convert`` (index/
    convert.py), turn a raw item into one first (its failure message is passed on)."""
    if convert is None:
        return prepare_record
    fn: Converter = load(convert)

    def step(item: Any) -> Prepared | str:
        rec = fn(item)
        return rec if isinstance(rec, str) else prepare_record(rec)

    return step


def default_procs() -> int:
    """Worker processes by default: one per core beyond the first, at least one (on two
    cores one worker and the rebuilding process with tantivy's thread share them)."""
    return max(1, (os.cpu_count() or 1) - 1)


#: the end of an iterator (None may be a raw item)
_END: Any = object()


def prepared(records: Iterable[Any], *, procs: int, start_after: int,
             convert: str | None = None, failed: Failed | None = None
             ) -> Generator[Prepared, None, None]:
    """``records`` prepared, in order: in this process for the first ``start_after``, then,
    when ``procs`` > 0 and more records come, by ``procs`` worker processes (ended when
    the records are, or when the generator is closed).

    With ``convert``, ``records`` are raw items that function turns into Records (index/
    convert.py); an item it cannot turn is passed to ``failed``, in order, and skipped.
    ``start_after`` counts the Records made."""
    step = step_for(convert)
    it = iter(records)
    # islice stops without asking for one more: ``it`` stays at the next input
    yield from islice(_passed_on(map(step, it), failed), start_after)
    first = next(it, _END)
    if first is _END:
        return
    rest = chain([first], it)
    if procs <= 0:
        yield from _passed_on((step(item) for item in rest), failed)
        return
    workers = [_Worker(convert) for _ in range(procs)]
    try:
        yield from _passed_on(_through(workers, _chunks(rest, CHUNK), step), failed)
    except BaseException:  # also the caller closing this generator before its end
        for w in workers:
            w.kill()
        raise
    for w in workers:
        w.close()


def _passed_on(results: Iterable[Prepared | str], failed: Failed | None) -> Iterator[Prepared]:
    """The prepared records; the failures told to ``failed``, each in its place."""
    for p in results:
        if isinstance(p, str):
            report(failed, p)
        else:
            yield p


def _chunks(records: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(records, size)):
        yield chunk


def _through(workers: list[_Worker], chunks: Iterator[list[Any]], step: Step
             ) -> Iterator[Prepared | str]:
    """The chunks prepared in order: by the workers in turn, at most :data:`AHEAD` in
    flight; and by this process whenever that many are in flight and the oldest is not back
    yet (at most :data:`AHEAD` of those held), instead of waiting for it. So a rebuild whose
    workers have more to do than this process (one making Records from raw items, on two
    cores: one worker) shares that work out as the two keep pace, not in a fixed ratio."""
    order: deque[_Worker | list[Prepared | str]] = deque()
    in_flight = held = turn = 0
    for chunk in chunks:
        while True:
            while order and isinstance(head := order[0], list):
                held -= 1
                order.popleft()
                yield from head
            if in_flight < AHEAD:
                w = workers[turn % len(workers)]
                turn += 1
                w.send(chunk)
                order.append(w)
                in_flight += 1
                break
            oldest = order[0]
            assert isinstance(oldest, _Worker)
            if held < AHEAD and not oldest.ready():
                order.append([step(item) for item in chunk])
                held += 1
                break
            order.popleft()
            in_flight -= 1
            yield from oldest.receive()
    while order:
        entry = order.popleft()
        yield from entry if isinstance(entry, list) else entry.receive()


# ---------------------------------------------------------------- the two ends of a pipe


def _write_frame(out: IO[bytes], obj: Any) -> None:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(blob)))
    out.write(blob)
    out.flush()


def _read_frame(inp: IO[bytes]) -> Any:
    (n,) = _LEN.unpack(_read_exactly(inp, _LEN.size))
    return pickle.loads(_read_exactly(inp, n))  # noqa: S301  (our own child, its own pipe)


def _read_exactly(inp: IO[bytes], n: int) -> bytes:
    """``n`` bytes (an unbuffered pipe gives what it holds: read until there are ``n``)."""
    parts = []
    while n > 0:
        part = inp.read(n)
        if not part:
            raise EOFError
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


class _Worker:
    """One worker process, fed by a thread (so that sending a chunk never waits for the
    worker to be read: a pipe holds less than a chunk). Its first frame is the name of
    the caller's ``convert`` function, or None. Its pipes are unbuffered here, so that
    :meth:`ready` can ask the pipe (a buffer might already hold what the pipe no longer
    does); the feeder buffers its own writes."""

    def __init__(self, convert: str | None = None) -> None:
        self._convert = convert
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.proc = subprocess.Popen(  # noqa: S603  (this interpreter, this module)
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, bufsize=0)
        self._queue: queue.Queue[list[Any] | None] = queue.Queue()
        self._feeder = threading.Thread(target=self._feed, name="lienhop-prepare-feed",
                                        daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        out = io.BufferedWriter(self.proc.stdin)  # writes whole frames, however long
        try:
            _write_frame(out, self._convert)
            while (chunk := self._queue.get()) is not None:
                _write_frame(out, chunk)
        except (BrokenPipeError, OSError):
            pass  # the worker died: receive() says so
        finally:
            with contextlib.suppress(OSError):
                out.close()  # and the pipe: the worker ends

    def send(self, chunk: list[Any]) -> None:
        self._queue.put(chunk)

    def ready(self) -> bool:
        """Whether the oldest chunk's answer (or the worker's end) can be read now."""
        assert self.proc.stdout is not None
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def receive(self) -> list[Prepared | str]:
        assert self.proc.stdout is not None
        try:
            ok, value = _read_frame(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"a rebuild worker ended (exit {self.proc.wait()})") from None
        if not ok:
            raise RuntimeError(f"a rebuild worker failed:\n{value}")
        result: list[Prepared | str] = value
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
    """The worker's loop: the ``convert`` name first, then chunks in on stdin, prepared
    chunks (or a traceback) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the rebuilding process decides
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the frames
    inp = sys.stdin.buffer
    try:
        convert = _read_frame(inp)
    except EOFError:
        return
    step: Step | None = None
    cannot = ""
    try:
        step = step_for(convert)
    except Exception:  # noqa: BLE001  (said in answer to every chunk)
        cannot = traceback.format_exc()
    while True:
        try:
            chunk = _read_frame(inp)
        except EOFError:
            return
        try:
            if step is None:
                answer: tuple[bool, Any] = (False, cannot)
            else:
                answer = (True, [step(item) for item in chunk])
        except Exception:  # noqa: BLE001  (sent back whole, raised by the caller)
            answer = (False, traceback.format_exc())
        try:
            _write_frame(out, answer)
        except BrokenPipeError:  # the rebuilding process is gone: so is the work
            return
        except Exception:  # noqa: BLE001  (an answer that does not pickle: nothing was sent)
            _write_frame(out, (False, traceback.format_exc()))


if __name__ == "__main__":
    _serve()
