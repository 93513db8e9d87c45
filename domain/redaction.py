"""Keeping secrets out of messages, logs and the record: URLs without their credentials.

A database or artifact store URL may carry a password in its userinfo
(``postgresql://bob:pw@db/x``, ``s3://KEY:SECRET@bucket``) or in its query
(``?password=``, ``?sslpassword=``, ``?token=`` ...). Everything lineagelog
shows or records names a URL through ``redact_url``; driver messages, which may
quote the URL or the password, go through ``redact_text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "SECRET_PARAMETER_WORDS",
    "is_secret_parameter",
    "redact_text",
    "redact_url",
    "secrets_of",
]

MASK = "***"

SECRET_PARAMETER_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth")
"""A query parameter whose name contains one of these holds a secret (``sslpassword``,
``aws_secret_access_key``, ``api_key``, ``sas_token``); so does Azure's ``sig``."""

_SHORTEST = 3
_DATABASE_SCHEMES = ("postgres", "postgresql", "mysql", "mariadb", "sqlite", "mssql", "oracle")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^@?#]*)@")


def is_secret_parameter(name: str) -> bool:
    """Whether a URL query parameter of this name holds a secret.

    Examples:
        >>> [is_secret_parameter(n) for n in ("sslpassword", "schema", "sig", "api_key")]
        [True, False, True, True]

    """
    lowered = name.lower()
    return lowered == "sig" or any(word in lowered for word in SECRET_PARAMETER_WORDS)


def redact_url(url: str) -> str:
    """The URL with every credential replaced by ``***``, for messages, logs and the record.

    A database URL keeps its user name and loses its password; any other URL
    (an object store's) loses its whole userinfo, which there is a key and a
    secret. Query parameters named like secrets lose their values.

    Examples:
        >>> redact_url("postgresql://bob:s3cret@db:5432/lineage")
        'postgresql://bob:***@db:5432/lineage'
        >>> redact_url("postgresql://bob@db/lineage?password=s3cret&schema=team")
        'postgresql://bob@db/lineage?password=***&schema=team'
        >>> redact_url("s3://AKIA:abc/def@bucket/prefix")
        's3://***@bucket/prefix'
        >>> redact_url("sqlite:///tmp/lineage.db")
        'sqlite:///tmp/lineage.db'

    """
    if not isinstance(url, str):
        return repr(type(url))
    head, sep, query = url.partition("?")
    fragment = ""
    if sep:
        query, hash_sep, fragment = query.partition("#")
        fragment = hash_sep + fragment
    match = _userinfo(head)
    if match is not None:
        scheme, userinfo = match.group(1), match.group(2)
        if _is_database(scheme):
            user, colon, _ = userinfo.partition(":")
            shown = f"{user}:{MASK}" if colon else user
        else:
            shown = MASK
        head = f"{scheme}{shown}@{head[match.end() :]}"
    if not sep:
        return head
    return f"{head}?{_redact_query(query)}{fragment}"


def _userinfo(head: str) -> re.Match[str] | None:
    """The scheme and userinfo of a URL without its query, if it has userinfo.

    The userinfo runs to the last ``@``, not to the first ``/``: an AWS secret
    may hold a ``/``, and then a standard parse would show it as a path.
    """
    match = _USERINFO.match(head)
    if match is None or ("/" in match.group(2) and ":" not in match.group(2)):
        return None  # an '@' in a path (sqlite:///a@b.db), not credentials
    return match


def _is_database(scheme: str) -> bool:
    return "+" in scheme or scheme.rstrip(":/").lower() in _DATABASE_SCHEMES


def _redact_query(query: str) -> str:
    parts = []
    for item in query.split("&"):
        name, eq, _ = item.partition("=")
        parts.append(f"{name}={MASK}" if eq and is_secret_parameter(unquote(name)) else item)
    return "&".join(parts)


def secrets_of(url: str) -> list[str]:
    """The credentials a URL carries (userinfo password and secret query values).

    Both as written and percent-decoded, longest first, so ``redact_text`` can
    take them out of a driver's message that quotes them.

    Examples:
        >>> secrets_of("postgresql://bob:p%40ss@db/x?token=t0k")
        ['p%40ss', 'p@ss', 't0k']

    """
    found: set[str] = set()
    match = _userinfo(url.partition("?")[0])
    if match is not None:
        user, _, password = match.group(2).partition(":")
        found.update([password, unquote(password)])
        if not _is_database(match.group(1)):
            found.update([user, unquote(user)])  # an object store's access key id
    try:
        query = urlsplit(url).query
    except ValueError:
        query = url.partition("?")[2]
    for name, value in parse_qsl(query, keep_blank_values=True):
        if is_secret_parameter(name):
            found.update([value, quote(value, safe="")])
    # Masking a one- or two-character "secret" everywhere would garble every message.
    return sorted((s for s in found if len(s) >= _SHORTEST), key=lambda s: (-len(s), s))


def redact_text(text: str, urls: Iterable[str]) -> str:
    """``text`` with each of ``urls`` redacted and each credential they carry masked.

    For messages that may quote a URL or a password, such as a database
    driver's error.

    Examples:
        >>> redact_text(
        ...     'password authentication failed for "bob" (pw s3cret)',
        ...     ["postgresql://bob:s3cret@db/x"],
        ... )
        'password authentication failed for "bob" (pw ***)'

    """
    for url in urls:
        text = text.replace(url, redact_url(url))
        for secret in secrets_of(url):
            text = text.replace(secret, MASK)
    return text
