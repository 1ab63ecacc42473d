"""The condition language: a tokenizer and recursive-descent parser (never ``eval``).

Grammar::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [ (== | != | < | <= | > | >=) operand
                          | "in" list | "not" "in" list
                          | "is" "missing" | "is" "not" "missing" ]
    operand    := NAME | NUMBER | STRING | "true" | "false" | "(" expr ")"
    list       := "[" [literal ("," literal)*] "]"
    NAME       := identifier ("." identifier)*      e.g. phq9.total.band, bullied

Anything else — function calls, attribute tricks, ``__import__`` — is a
syntax error with the position of the offending character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Node", "Name", "Literal", "Compare", "InList", "IsMissing", "And", "Or", "Not", "parse", "ExprSyntaxError",
           "names_in"]


class ExprSyntaxError(ValueError):
    def __init__(self, message: str, pos: int, text: str):
        self.pos = pos
        self.text = text
        pointer = text + "\n" + " " * pos + "^"
        super().__init__(f"{message} at position {pos}:\n{pointer}")
        self.short = f"{message} at position {pos}"


@dataclass(frozen=True)
class Name:
    parts: tuple[str, ...]
    pos: int

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    value: float | str | bool
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class InList:
    operand: Node
    values: tuple[Literal, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class IsMissing:
    """``x is missing`` / ``x is not missing``: whether a value is unknown (unanswered, not scored, not supplied)."""

    operand: Name
    negated: bool
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Name | Literal | Compare | InList | IsMissing | And | Or | Not

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<str>"[^"\\]*"|'[^'\\]*')
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "is"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprSyntaxError(f"unexpected character {text[pos]!r}", pos, text)
        kind = m.lastgroup or ""
        if kind != "ws":
            tok = m.group()
            if kind == "name" and tok.lower() in _KEYWORDS:
                kind = "kw"
                tok = tok.lower()
            out.append(_Tok(kind, tok, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


#: Deepest nesting of brackets and ``not`` a condition may have (a bound on recursion, far above any real rule).
MAX_DEPTH = 64


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"the condition nests brackets or 'not' more than {MAX_DEPTH} levels deep")

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _error(self, msg: str) -> ExprSyntaxError:
        return ExprSyntaxError(msg, self.tok.pos, self.text)

    def _accept(self, kind: str, text: str | None = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def _expect(self, kind: str, text: str) -> _Tok:
        t = self._accept(kind, text)
        if t is None:
            found = self.tok.text or "end of condition"
            raise self._error(f"expected {text!r}, found {found!r}")
        return t

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self._error("empty condition")
        node = self._or()
        if self.tok.kind != "end":
            t = self.tok
            if t.text == "(":
                raise self._error("function calls are not part of the condition language")
            raise self._error(f"unexpected {t.text!r}")
        return node

    def _or(self) -> Node:
        items = [self._and()]
        while self._accept("kw", "or"):
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Node:
        items = [self._not()]
        while self._accept("kw", "and"):
            items.append(self._not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _not(self) -> Node:
        if self.tok.kind == "kw" and self.tok.text == "not" and not (
            self.toks[self.i + 1].kind == "kw" and self.toks[self.i + 1].text == "in"
        ):
            self._enter()
            self.i += 1
            node = Not(self._not())
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._operand()
        t = self.tok
        if t.kind == "op":
            self.i += 1
            right = self._operand()
            return Compare(t.text, left, right, t.pos)
        if self._accept("kw", "in"):
            return InList(left, self._list(), False, t.pos)
        if t.kind == "kw" and t.text == "not" and self.toks[self.i + 1].text == "in":
            self.i += 2
            return InList(left, self._list(), True, t.pos)
        if self._accept("kw", "is"):
            negated = self._accept("kw", "not") is not None
            if not (self.tok.kind == "name" and self.tok.text.lower() == "missing"):
                found = self.tok.text or "end of condition"
                raise self._error(f"expected 'missing' after 'is{' not' if negated else ''}', found {found!r}")
            self.i += 1
            if not isinstance(left, Name):
                raise ExprSyntaxError("only a name can be tested with 'is missing'", t.pos, self.text)
            return IsMissing(left, negated, t.pos)
        return left

    def _literal(self) -> Literal | None:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return Literal(float(t.text), t.pos)
        if t.kind == "str":
            self.i += 1
            return Literal(t.text[1:-1], t.pos)
        if t.kind == "kw" and t.text in ("true", "false"):
            self.i += 1
            return Literal(t.text == "true", t.pos)
        return None

    def _operand(self) -> Node:
        lit = self._literal()
        if lit is not None:
            return lit
        t = self.tok
        if t.kind == "name":
            self.i += 1
            if self.tok.text == "(":
                raise self._error("function calls are not part of the condition language")
            if "__" in t.text:
                raise ExprSyntaxError("names may not contain '__'", t.pos, self.text)
            return Name(tuple(t.text.split(".")), t.pos)
        if self.tok.text == "(":
            self._enter()
            self.i += 1
            node = self._or()
            self.depth -= 1
            self._expect("punct", ")")
            return node
        found = t.text or "end of condition"
        raise self._error(f"expected a name, number or string, found {found!r}")

    def _list(self) -> tuple[Literal, ...]:
        self._expect("punct", "[")
        values: list[Literal] = []
        if self._accept("punct", "]"):
            return ()
        while True:
            lit = self._literal()
            if lit is None:
                raise self._error("a list holds only numbers, strings, true or false")
            values.append(lit)
            if self._accept("punct", "]"):
                return tuple(values)
            self._expect("punct", ",")


def parse(text: str) -> Node:
    """Parse a condition into an AST; raises :class:`ExprSyntaxError` with the position."""
    return _Parser(text).parse()


def names_in(node: Node) -> list[Name]:
    """Every name used in a condition, in order of appearance."""
    if isinstance(node, Name):
        return [node]
    if isinstance(node, Literal):
        return []
    if isinstance(node, Compare):
        return names_in(node.left) + names_in(node.right)
    if isinstance(node, (InList, IsMissing)):
        return names_in(node.operand)
    if isinstance(node, Not):
        return names_in(node.item)
    out: list[Name] = []
    for it in node.items:
        out += names_in(it)
    return out
