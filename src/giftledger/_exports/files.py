"""Writing an export file atomically, and reporting progress."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from .._errors import InvalidArgument
from .._files import publish_mode

__all__ = ["PROGRESS_EVERY", "Progress", "atomic_text", "decimal_text", "target_path"]

#: ``progress(done, total)``: ``done`` entries of ``total`` written (or read) so far.
Progress = Callable[[int, int], object]

#: How many entries pass between two calls of a progress callback (it is called
#: once more at the end, with ``done == total``).
PROGRESS_EVERY = 1000


def target_path(out: str | os.PathLike[str], what: str = "export") -> Path:
    """``out`` as a Path, refused unless it names a file in a folder that exists."""
    if not isinstance(out, str | os.PathLike):
        raise InvalidArgument(f"{what} path {out!r} must be a str or a path")
    path = Path(out)
    if path.is_dir():
        raise InvalidArgument(f"{what} path {str(path)!r} is a folder; name a file")
    if not path.parent.is_dir():
        raise InvalidArgument(
            f"{what} path {str(path)!r}: the folder {str(path.parent)!r} does not exist"
        )
    return path


@contextmanager
def atomic_text(path: Path, newline: str | None = "\n") -> Iterator[TextIO]:
    """A UTF-8 text file that appears at ``path`` only once the block ends normally.

    It is written to a temporary file beside ``path``, flushed to disk, and
    renamed over ``path`` (atomic on POSIX and Windows); if the block raises,
    the temporary file is removed and ``path`` is left as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        publish_mode(fd)
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def decimal_text(minor: int, exponent: int) -> str:
    """``minor`` minor units as exact decimal text with ``exponent`` fraction digits.

    Example:
        >>> decimal_text(-1999, 2), decimal_text(1400, 0), decimal_text(5, 3)
        ('-19.99', '1400', '0.005')
    """
    sign = "-" if minor < 0 else ""
    if not exponent:
        return f"{sign}{abs(minor)}"
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"
