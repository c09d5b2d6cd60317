"""Declarative base with naming conventions (stable constraint names for Alembic)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

from clausewatch.schemas.vocabulary import sql_in

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def enum_type(enum: type[StrEnum], length: int) -> Enum:
    """A VARCHAR column holding the values (not the names) of ``enum``, read back as members.

    Writing another string raises before the database is reached; the database refuses it
    too (``one_of``)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,  # named explicitly by one_of (migration 0011)
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def one_of(column: str, enum: type[StrEnum]) -> CheckConstraint:
    """The CHECK constraint ``ck_<table>_<column>``: ``column`` holds a value of ``enum``."""
    return CheckConstraint(sql_in(column, enum), name=column)


# Integer columns (ids, lock versions) are 32-bit on PostgreSQL; SQLite refuses anything past
# 64 bits with OverflowError. A value outside this range matches no row on either.
INTEGER_MAX = 2**31 - 1
INTEGER_MIN = -(2**31)


def fits_integer(value: int) -> bool:
    """Whether ``value`` can be compared with an Integer column on every supported database."""
    return INTEGER_MIN <= value <= INTEGER_MAX


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
