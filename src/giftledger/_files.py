"""Files giftledger writes whole: the mode a new file gets.

A temporary file from :func:`tempfile.mkstemp` is private (0o600); a file that
replaces it at its final path should get the mode any new file would get, 0o666
less the process's umask, so an export or a chart can be read as the user expects.
"""

from __future__ import annotations

import os

__all__ = ["new_file_mode", "publish_mode"]


def new_file_mode() -> int:
    """The mode a new file gets: 0o666 less the umask.

    Example:
        >>> new_file_mode() & 0o600
        384
    """
    try:  # Linux says it without changing it (os.umask sets while it reads)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def publish_mode(fd: int) -> None:
    """Give the open temporary file ``fd`` the mode of a new file, before it is renamed."""
    os.fchmod(fd, new_file_mode())
