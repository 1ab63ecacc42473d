"""Building blocks shared by scale and rule-set specifications (pure pydantic)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

__all__ = [
    "StrictModel",
    "Text",
    "Source",
    "Op",
    "SnakeId",
    "ItemId",
]


class StrictModel(BaseModel):
    """Frozen model that rejects unknown keys (a misspelt key is an error, never ignored).

    Numbers must be finite: YAML's ``.nan`` and ``.inf`` are never a valid option value, cut-off or hour count.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, allow_inf_nan=False)


class Text(StrictModel):
    """A short text in Chinese and/or English. At least one language must be given."""

    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> Text:
        if not (self.zh or self.en):
            raise ValueError("give the text in at least one language (zh or en)")
        return self

    def get(self, lang: str = "en") -> str:
        """The text in ``lang``, falling back to the other language."""
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second or ""


class Source(StrictModel):
    """A bibliographic reference or document the rule is taken from."""

    ref: str = Field(min_length=3, description="Full citation (authors, year, title, journal or document).")
    url: str | None = None
    note: str | None = Field(default=None, description="Which part of the source this rule rests on.")


Op = Literal[">=", ">", "<=", "<", "==", "!="]

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")


def _snake(v: object) -> object:
    if isinstance(v, str) and not _SNAKE.match(v):
        raise ValueError(f"{v!r} must be lower_snake_case (a-z, 0-9, _; starting with a letter)")
    return v


def _item_id(v: object) -> object:
    # YAML reads `9` as an int; item ids are strings ("9", "q9a") everywhere else.
    if isinstance(v, bool):
        raise ValueError("an item id cannot be true/false")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and not _ITEM_ID.match(v):
        raise ValueError(f"item id {v!r} may hold only letters, digits and _")
    return v


SnakeId = Annotated[str, BeforeValidator(_snake)]
ItemId = Annotated[
    str,
    BeforeValidator(_item_id),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_]*$"}, {"type": "integer", "minimum": 0}]}),
]


def normalise_label(text: str) -> str:
    """Fold full/half width, case and surrounding space so labels match across exports.

    The one folding used both by the scale-file check for colliding labels and by the engine reading
    ``response_format="label"`` cells, so the two always agree.
    """
    import unicodedata

    return unicodedata.normalize("NFKC", str(text)).strip().casefold()
