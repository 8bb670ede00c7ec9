"""One line an operator can act on for a database the bridge cannot use (never the URL's password)."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

#: PostgreSQL error codes (SQLSTATE) that say the URL names something the server does not have.
_NO_DATABASE = "3D000"
_REFUSED_LOGIN = ("28000", "28P01")


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL error code of ``error`` or of the driver error SQLAlchemy wrapped."""
    for candidate in (error, getattr(error, "orig", None), error.__cause__):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def database_problem(error: BaseException, url: str) -> str | None:
    """What is wrong with the database at ``url``, in one line with the fix, if ``error`` is a database failure."""
    where = _where(url)
    database = make_url(url).database if "://" in url else None
    code = _sqlstate(error)
    if code == _NO_DATABASE:
        return (
            f'BRIDGE_DATABASE_URL: database "{database}" does not exist on {where}. '
            f"Create it (createdb --owner=ROLE {database}; see docs/deploy.md) or fix the name in the URL."
        )
    if code in _REFUSED_LOGIN:
        return (
            f"BRIDGE_DATABASE_URL: {where} refused the login ({type(error).__name__}). "
            "Fix the user and password in the URL, or create the role (see docs/deploy.md)."
        )
    if isinstance(error, OSError | ConnectionError | TimeoutError):
        return (
            f"BRIDGE_DATABASE_URL: cannot reach the database server at {where} ({type(error).__name__}). "
            "Start PostgreSQL there, or fix the host and port in the URL."
        )
    if code is not None or isinstance(error, SQLAlchemyError):
        return (
            f"BRIDGE_DATABASE_URL: the database at {where} failed ({type(error).__name__}). "
            "Check the URL, and that the role may create tables there (see docs/deploy.md)."
        )
    return None
