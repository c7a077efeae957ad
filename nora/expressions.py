"""Query expressions the ORM does not offer at the cost we need."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Expression, F, Field


class ValueByPrimaryKey(Expression):
    """A different value for each row, chosen by its primary key: `CASE pk WHEN ... THEN ... END`.

    For an UPDATE that gives many rows values of their own in one statement. Django's
    `Case(*(When(pk=..., then=...)))` says the same, but builds and resolves a lookup for every
    branch, twice per update, on the database thread every turn shares; this renders the
    expression once. A row whose key is not in `values` gets NULL, as with `Case`, so filter
    the update to those keys.
    """

    def __init__(self, values: Mapping[Any, Any], *, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.values = values
        self.primary_key = F("pk")

    def get_source_expressions(self) -> list:
        return [self.primary_key]

    def set_source_expressions(self, exprs) -> None:
        (self.primary_key,) = exprs

    def as_sql(self, compiler, connection):
        primary_key_sql, params = compiler.compile(self.primary_key)
        params = list(params)
        key_field = self.primary_key.target
        for key, value in self.values.items():
            params.append(key_field.get_db_prep_value(key, connection))
            params.append(self.output_field.get_db_prep_value(value, connection))
        branches = " ".join(["WHEN %s THEN %s"] * len(self.values))
        return f"CASE {primary_key_sql} {branches} END", params
