"""Raw items a rebuild's caller turns into Records, by a function it names.

A rebuild from a raw archive spends most of its time turning raw items into Records
(parsing XML, crosswalking): work that belongs to the caller (``index`` must not import
``harvesters`` or ``resolver``), but that an engine can move out of the rebuilding process.
So :func:`index.rebuild` may take raw items and the dotted name (``"module:function"``) of a
top-level function that turns one item into a :class:`~index.record.Record`, or into a
``str``: why that item cannot be indexed. Being named, not passed, the function can run in
an engine's worker processes (index/tantivy_engine/prepare.py); every failure still comes
back to the rebuilding process, in input order, through the caller's ``failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from typing import Any

from index.record import Record

#: One raw item in, its Record (or why it has none) out.
Converter = Callable[[Any], Record | str]
#: Told, in the rebuilding process, why one item could not be indexed.
Failed = Callable[[str], None]


def load(name: str) -> Converter:
    """The top-level function named ``"package.module:function"``."""
    module, sep, attr = name.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"not a 'module:function' name: {name!r}")
    fn: Converter = getattr(import_module(module), attr)
    return fn


def report(failed: Failed | None, message: str) -> None:
    """Pass one item's failure on; without a ``failed`` to take it, stop the rebuild."""
    if failed is None:
        raise ValueError(f"a record could not be read, and nobody to tell: {message}")
    failed(message)


def converted(items: Iterable[Any], convert: Converter, failed: Failed | None
              ) -> Iterator[Record]:
    """``items`` turned into Records in this process, in order; failures to ``failed``."""
    for item in items:
        rec = convert(item)
        if isinstance(rec, str):
            report(failed, rec)
        else:
            yield rec
