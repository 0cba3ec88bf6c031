"""Uploaded files kept aside while their import waits for confirmation.

A confirmation page (``resolver/views/admin/confirm.py``) posts its form again, but no page
can post a file again: a browser fills a file input only from the person's own choice. So a
KBART upload that would replace titles is written here, under the instance folder, and the
confirmation carries its token; the confirmed request imports that copy and deletes it.

A token is 32 URL-safe random characters, checked before it names a file, so a form value
cannot reach outside the folder. Files left by confirmations never sent are deleted when the
next file is kept, once older than :data:`MAX_AGE`.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path
from typing import IO, BinaryIO

__all__ = ["MAX_AGE", "discard", "keep", "open_kept", "valid_token"]

#: seconds a kept file waits for its confirmation
MAX_AGE = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_FOLDER = "staged_uploads"


def valid_token(value: str | None) -> str | None:
    """``value`` when it has the shape of a token, else None."""
    return value if value is not None and _TOKEN.fullmatch(value) else None


def _folder(home: Path) -> Path:
    return home / _FOLDER


def _sweep(folder: Path, now: float) -> None:
    for path in folder.glob("*"):
        try:
            if now - path.stat().st_mtime > MAX_AGE:
                path.unlink()
        except OSError:  # another worker swept it first
            pass


def keep(home: Path, stream: IO[bytes]) -> str:
    """Copy ``stream`` (from its start) aside; the token that names the copy."""
    folder = _folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder, time.time())
    token = secrets.token_urlsafe(24)  # 32 characters
    stream.seek(0)
    with (folder / token).open("wb") as out:
        shutil.copyfileobj(stream, out)
    return token


def open_kept(home: Path, token: str | None) -> BinaryIO | None:
    """The kept file of ``token``, open for reading; None when there is none (any more)."""
    checked = valid_token(token)
    if checked is None:
        return None
    path = _folder(home) / checked
    try:
        if time.time() - path.stat().st_mtime > MAX_AGE:
            return None
        return path.open("rb")
    except OSError:
        return None


def discard(home: Path, token: str | None) -> None:
    """Delete the kept file of ``token`` (nothing when there is none)."""
    checked = valid_token(token)
    if checked is not None:
        (_folder(home) / checked).unlink(missing_ok=True)
