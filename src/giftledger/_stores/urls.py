"""Store URLs as they may be shown: without a password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["redacted"]


def redacted(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) shown as
    ``***``: what messages, reprs and ``store.url`` show, so no secret reaches a log.

    Example:
        >>> redacted("postgresql://app:s3cret@db:5432/books?password=x&schema=gifts")
        'postgresql://app:***@db:5432/books?password=***&schema=gifts'
        >>> redacted("postgresql://app@db/books")
        'postgresql://app@db/books'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            if ":" in user:
                netloc = f"{user.split(':', 1)[0]}:***@{host}"
        query = parts.query
        if query:
            query = "&".join(
                f"{k}=***" if k.lower() == "password" else item
                for item in query.split("&")
                for k in (item.split("=", 1)[0],)
            )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "<an unreadable URL>"  # show nothing of it
