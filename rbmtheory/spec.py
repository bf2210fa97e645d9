"""Parse and print sampling-scheme specs such as ``disjoint(r=3, layout=interleaved)``.

A spec names a scheme and gives its parameters in one short line: on the command
line, in a config file or in a report. :func:`parse_spec` turns the text into a
:class:`SpecCall` (a name and a dict of arguments) and :func:`format_spec` prints a
:class:`SpecCall` back in canonical form. This module checks *syntax only*: it does
not know which schemes exist or which arguments they take -- the module that maps
names to scheme classes decides that.

The parser is a hand-written tokenizer and recursive-descent parser. Nothing in the
spec is ever evaluated: there is no ``eval``, no ``sympify`` and no ``parse_expr``;
numbers are built from validated digit strings and identifiers are returned as
inert :class:`Name` strings.

Grammar (EBNF)
--------------
Whitespace (space, tab, newline) may appear between tokens but not inside one;
``scheme-name``, ``identifier``, ``integer``, ``natural``, ``decimal`` and ``path``
are single tokens. ::

    spec        = scheme-name [ "(" [ arguments ] ")" ] ;
    arguments   = path                                   (* the only positional form *)
                | keyword { "," keyword } ;              (* no trailing comma *)
    keyword     = identifier "=" value ;                 (* each name at most once *)
    value       = number | identifier | list | dict ;
    number      = integer [ "/" natural ]                (* natural > 0 *)
                | decimal ;
    list        = "[" [ value { "," value } ] "]" ;
    dict        = "{" [ entry { "," entry } ] "}" ;
    entry       = integer ":" value ;                    (* each key at most once *)

    scheme-name = word { "-" word } ;
    word        = ( "a".."z" | digit ) { "a".."z" | digit } ;
    identifier  = ( letter | "_" ) { letter | digit | "_" } ;
    integer     = [ "-" ] natural ;
    natural     = digit { digit } ;
    decimal     = integer ( fraction [ exponent ] | exponent ) ;
    fraction    = "." natural ;
    exponent    = ( "e" | "E" ) [ "+" | "-" ] natural ;
    path        = path-char { path-char } ;
    path-char   = letter | digit | "/" | "." | "_" | "-" ;

``letter`` and ``digit`` are ASCII only. The arguments are a ``path`` unless they
start with ``identifier "="``; so ``family(data/run1.json)`` has one positional
argument and ``balanced(r=3)`` one keyword argument. ``name()`` means the same as
``name``.

Values
------
=======================  ===========================================================
spec text                Python value
=======================  ===========================================================
``3``, ``-2``            :class:`int`
``1/3``, ``-2/4``        :class:`sympy.Rational` (reduced: ``-1/2``)
``0.25``, ``1e-3``       :class:`sympy.Rational`, exact (``0.1`` gives ``1/10``)
``q``, ``interleaved``   :class:`Name` (a ``str`` subclass; the consumer decides whether
                         it is a symbol, e.g. ``sympy.Symbol(name)``, or an enum word)
``[v, ...]``             :class:`list` (may nest)
``{1: v, ...}``          :class:`dict` with :class:`int` keys
``name(a/b.json)``       ``args == {"path": "a/b.json"}``, a plain :class:`str`
=======================  ===========================================================

A fraction or decimal with a whole value becomes an :class:`int` (``4/2`` and
``2.0`` give ``2``), so every number has one canonical form and one Python type.
:class:`Name` compares equal to the plain string with the same text.

Errors
------
Every problem raises :class:`rbmtheory.errors.RBMInputError` with one line that
quotes the spec and gives the 1-based column (counted in characters from the start
of the spec) where the problem was found. As a safety limit, a spec may have at most
100,000 characters, values may nest at most 50 deep, and the numerator and
denominator of every number have at most 1,000 digits.

Examples
--------
>>> call = parse_spec("disjoint(r=3, layout=interleaved)")
>>> call
SpecCall(name='disjoint', args={'r': 3, 'layout': Name('interleaved')})
>>> parse_spec("size-mixture(sizes={1: 1/3, 4: 0.5})").args["sizes"]
{1: 1/3, 4: 1/2}
>>> parse_spec("family( data/run-1.json )")
SpecCall(name='family', args={'path': 'data/run-1.json'})
>>> format_spec(parse_spec("bernoulli( q = 0.250 )"))
'bernoulli(q=1/4)'
>>> parse_spec("balanced(r=3")
Traceback (most recent call last):
    ...
rbmtheory.errors.RBMInputError: bad scheme spec 'balanced(r=3' at column 13: expected ')' or ',', found end of input
"""
from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NoReturn, TypeAlias, Union

import sympy

from rbmtheory.errors import RBMInputError

__all__ = ["Name", "SpecCall", "SpecValue", "format_spec", "parse_spec"]

MAX_SPEC_LENGTH = 100_000
"""Longest spec text :func:`parse_spec` accepts, in characters."""
MAX_DEPTH = 50
"""Deepest nesting of lists and dicts in one argument value."""
MAX_DIGITS = 1000
"""Most digits in the numerator or the denominator of a number."""

_NUMBER_LIMIT = 10**MAX_DIGITS
_MAX_EXPONENT_DIGITS = 5  # |exponent| < 100000; the value limit above then applies

_SCHEME_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NAME_RUN_RE = re.compile(r"[A-Za-z0-9_-]+")  # what a misspelt scheme name looks like
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_RE = re.compile(r"[A-Za-z0-9_./-]+")
_NUMBER_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_TAIL_RE = re.compile(r"[A-Za-z0-9_.+-]+")  # glued to a number: malformed
_PUNCT = frozenset("()[]{},=:/")
_WHITESPACE = frozenset(" \t\r\n\f\v")


class Name(str):
    """An identifier given as a value, e.g. ``q`` in ``bernoulli(q=q)``.

    It is a ``str`` (and equal to the plain string with the same text); its own type
    only records that the spec wrote a bare identifier, which may stand for a symbol
    (``sympy.Symbol(name)``) or for an enum-like word such as ``interleaved``.
    Constructing one checks that the text is an ASCII identifier.

    >>> Name("q") == "q", Name("q")
    (True, Name('q'))
    """

    __slots__ = ()

    def __new__(cls, text: str) -> Name:
        if not isinstance(text, str) or _IDENT_RE.fullmatch(text) is None:
            raise RBMInputError(f"not an identifier: {text!r}")
        return super().__new__(cls, text)

    def __repr__(self) -> str:
        return f"Name({str.__repr__(self)})"


SpecValue: TypeAlias = Union[
    int, sympy.Rational, Name, str, list["SpecValue"], dict[int, "SpecValue"]
]
"""What an argument value can be (``str`` only as the positional ``path``)."""


@dataclass(frozen=True)
class SpecCall:
    """A parsed spec: the scheme ``name`` and its ``args`` by keyword.

    The positional file path of ``family(path/to/file.json)`` is stored as
    ``args["path"]`` (a plain ``str``). ``args`` keeps the order of the spec. The
    call is not hashable, because ``args`` is a dict.
    """

    name: str
    args: dict[str, SpecValue] = field(default_factory=dict)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class _Token:
    kind: str  # "int", "decimal", "ident", "punct", "end" or "bad"
    text: str
    start: int  # 0-based offset into the spec
    end: int
    problem: str = ""  # why a "bad" token is bad


def _quote(text: str) -> str:
    """``repr`` of a spec for an error message, shortened if it is very long."""
    if len(text) > 200:
        return repr(text[:200]) + "..."
    return repr(text)


def _found(tok: _Token) -> str:
    if tok.kind == "end":
        return "end of input"
    text = tok.text if len(tok.text) <= 30 else tok.text[:30] + "..."
    return repr(text)


class _Parser:
    """Recursive descent over tokens read on demand from ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0  # offset where the next token (or whitespace) starts

    # -- errors ---------------------------------------------------------------

    def fail(self, offset: int, problem: str) -> NoReturn:
        raise RBMInputError(
            f"bad scheme spec {_quote(self.text)} at column {offset + 1}: {problem}"
        )

    def unexpected(self, tok: _Token, expected: str) -> NoReturn:
        if tok.kind == "bad":
            self.fail(tok.start, tok.problem)
        self.fail(tok.start, f"expected {expected}, found {_found(tok)}")

    # -- tokens ---------------------------------------------------------------

    def skip_ws(self, offset: int) -> int:
        text = self.text
        while offset < len(text) and text[offset] in _WHITESPACE:
            offset += 1
        return offset

    def lex(self, offset: int) -> _Token:
        """The token at ``offset`` (after whitespace); never raises."""
        text = self.text
        start = self.skip_ws(offset)
        if start == len(text):
            return _Token("end", "", start, start)
        char = text[start]
        m = _NUMBER_RE.match(text, start)
        if m:
            tail = _NUMBER_TAIL_RE.match(text, m.end())
            if tail:
                bad = text[start : tail.end()]
                problem = f"malformed number {bad!r}"
                return _Token("bad", bad, start, tail.end(), problem)
            kind = "int" if m.group().lstrip("-").isdigit() else "decimal"
            return _Token(kind, m.group(), start, m.end())
        m = _IDENT_RE.match(text, start)
        if m:
            return _Token("ident", m.group(), start, m.end())
        if char in _PUNCT:
            return _Token("punct", char, start, start + 1)
        return _Token("bad", char, start, start + 1, f"unexpected character {char!r}")

    def peek(self) -> _Token:
        return self.lex(self.pos)

    def next(self) -> _Token:
        tok = self.lex(self.pos)
        self.pos = tok.end
        return tok

    def at(self, tok: _Token, punct: str) -> bool:
        return tok.kind == "punct" and tok.text == punct

    def expect_punct(self, punct: str, expected: str) -> _Token:
        tok = self.next()
        if not self.at(tok, punct):
            self.unexpected(tok, expected)
        return tok

    def after_comma(self, comma: _Token, closer: str) -> None:
        if self.at(self.peek(), closer):
            self.fail(comma.start, f"trailing comma before {closer!r}")

    # -- grammar --------------------------------------------------------------

    def parse(self) -> SpecCall:
        start = self.skip_ws(0)
        m = _NAME_RUN_RE.match(self.text, start)
        if m is None:
            self.unexpected(self.lex(start), "a scheme name")
        name = m.group()
        if _SCHEME_NAME_RE.fullmatch(name) is None:
            self.fail(
                start,
                f"bad scheme name {name!r} (use lowercase letters, digits and "
                "single '-' between them)",
            )
        self.pos = m.end()
        args: dict[str, SpecValue] = {}
        tok = self.next()
        if self.at(tok, "("):
            args = self.arguments()
            tok = self.next()
            if tok.kind != "end":
                self.unexpected(tok, "end of input")
        elif tok.kind != "end":
            self.unexpected(tok, "'(' or end of input")
        return SpecCall(name, args)

    def arguments(self) -> dict[str, SpecValue]:
        """Everything after ``(`` up to and including ``)``."""
        first = self.peek()
        if self.at(first, ")"):
            self.next()
            return {}
        if first.kind == "ident" and self.at(self.lex(first.end), "="):
            return self.keywords()
        return {"path": self.path()}

    def path(self) -> str:
        start = self.skip_ws(self.pos)
        m = _PATH_RE.match(self.text, start)
        if m is None:
            self.unexpected(self.lex(start), "an argument name or a file path")
        self.pos = m.end()
        tok = self.next()
        if self.at(tok, ","):
            self.fail(tok.start, "a file path must be the only argument")
        if not self.at(tok, ")"):
            self.unexpected(tok, "')' after the file path")
        return m.group()

    def keywords(self) -> dict[str, SpecValue]:
        args: dict[str, SpecValue] = {}
        while True:
            start = self.skip_ws(self.pos)
            path = _PATH_RE.match(self.text, start)
            if path and ("/" in path.group() or "." in path.group()):
                self.fail(start, "a file path must be the only argument")
            tok = self.next()
            if tok.kind != "ident":
                self.unexpected(tok, "an argument name")
            if tok.text in args:
                self.fail(tok.start, f"duplicate argument {tok.text!r}")
            self.expect_punct("=", f"'=' after argument name {tok.text!r}")
            args[tok.text] = self.value(1)
            sep = self.next()
            if self.at(sep, ")"):
                return args
            if not self.at(sep, ","):
                self.unexpected(sep, "')' or ','")
            self.after_comma(sep, ")")

    def value(self, depth: int) -> SpecValue:
        tok = self.next()
        if tok.kind in ("int", "decimal"):
            return self.number(tok)
        if tok.kind == "ident":
            return Name(tok.text)
        if self.at(tok, "[") or self.at(tok, "{"):
            if depth > MAX_DEPTH:
                self.fail(tok.start, f"values nested more than {MAX_DEPTH} deep")
            return self.parse_list(depth) if tok.text == "[" else self.parse_dict(depth)
        self.unexpected(tok, "a value")

    def parse_list(self, depth: int) -> list[SpecValue]:
        items: list[SpecValue] = []
        if self.at(self.peek(), "]"):
            self.next()
            return items
        while True:
            items.append(self.value(depth + 1))
            sep = self.next()
            if self.at(sep, "]"):
                return items
            if not self.at(sep, ","):
                self.unexpected(sep, "']' or ','")
            self.after_comma(sep, "]")

    def parse_dict(self, depth: int) -> dict[int, SpecValue]:
        entries: dict[int, SpecValue] = {}
        if self.at(self.peek(), "}"):
            self.next()
            return entries
        while True:
            tok = self.next()
            if tok.kind != "int":
                self.unexpected(tok, "an integer key")
            key = self.integer(tok)
            if key in entries:
                self.fail(tok.start, f"duplicate key {key}")
            self.expect_punct(":", f"':' after key {key}")
            entries[key] = self.value(depth + 1)
            sep = self.next()
            if self.at(sep, "}"):
                return entries
            if not self.at(sep, ","):
                self.unexpected(sep, "'}' or ','")
            self.after_comma(sep, "}")

    # -- numbers --------------------------------------------------------------

    def integer(self, tok: _Token) -> int:
        if len(tok.text.lstrip("-")) > MAX_DIGITS:
            self.fail(tok.start, f"number has more than {MAX_DIGITS} digits")
        return int(tok.text)

    def exact(self, value: Fraction, offset: int) -> int | sympy.Rational:
        if abs(value.numerator) >= _NUMBER_LIMIT or value.denominator >= _NUMBER_LIMIT:
            self.fail(offset, f"number has more than {MAX_DIGITS} digits")
        if value.denominator == 1:
            return value.numerator
        return sympy.Rational(value.numerator, value.denominator)

    def number(self, tok: _Token) -> int | sympy.Rational:
        slash = self.peek()
        if tok.kind == "decimal":
            if self.at(slash, "/"):
                self.fail(slash.start, "a fraction needs an integer numerator")
            mantissa, _, exponent = tok.text.lower().partition("e")
            if sum(c.isdigit() for c in mantissa) > MAX_DIGITS:
                self.fail(tok.start, f"number has more than {MAX_DIGITS} digits")
            if len(exponent.lstrip("+-").lstrip("0")) > _MAX_EXPONENT_DIGITS:
                self.fail(tok.start, "exponent out of range")
            return self.exact(Fraction(tok.text), tok.start)
        numerator = self.integer(tok)
        if not self.at(slash, "/"):
            return numerator
        self.next()
        den = self.next()
        if den.kind == "decimal":
            self.fail(den.start, "a fraction needs an integer denominator")
        if den.kind != "int" or den.text.startswith("-"):
            self.unexpected(den, "a positive integer denominator")
        denominator = self.integer(den)
        if denominator == 0:
            self.fail(den.start, "zero denominator")
        return self.exact(Fraction(numerator, denominator), tok.start)


def parse_spec(text: str) -> SpecCall:
    """Parse a scheme spec (grammar in the module docstring) into a :class:`SpecCall`.

    >>> parse_spec("stratified(strata=[[0, 1, 2], [3, 4]], r=[1, 1])")
    SpecCall(name='stratified', args={'strata': [[0, 1, 2], [3, 4]], 'r': [1, 1]})
    >>> parse_spec("bernoulli(q=1/0)")
    Traceback (most recent call last):
        ...
    rbmtheory.errors.RBMInputError: bad scheme spec 'bernoulli(q=1/0)' at column 15: zero denominator

    Raises :class:`~rbmtheory.errors.RBMInputError` on any syntax error.
    """
    if not isinstance(text, str):
        raise RBMInputError(f"scheme spec must be a string, not {type(text).__name__}")
    if len(text) > MAX_SPEC_LENGTH:
        raise RBMInputError(
            f"bad scheme spec {_quote(text)}: longer than {MAX_SPEC_LENGTH} characters"
        )
    return _Parser(text).parse()


def _format_fail(call: object, problem: str) -> NoReturn:
    text = repr(call)
    if len(text) > 200:
        text = text[:200] + "..."
    raise RBMInputError(f"cannot format scheme spec {text}: {problem}")


def _format_number(p: int, q: int, call: SpecCall) -> str:
    if abs(p) >= _NUMBER_LIMIT or q >= _NUMBER_LIMIT:
        _format_fail(call, f"number has more than {MAX_DIGITS} digits")
    return str(p) if q == 1 else f"{p}/{q}"


def _format_value(value: object, depth: int, call: SpecCall) -> str:
    if isinstance(value, bool):
        _format_fail(call, f"unsupported value {value!r}")
    if isinstance(value, str):
        if _IDENT_RE.fullmatch(value) is None:
            _format_fail(call, f"string value {value!r} is not an identifier")
        return str(value)
    if isinstance(value, sympy.Rational):  # before numbers.*: includes sympy.Integer
        return _format_number(int(value.p), int(value.q), call)
    if isinstance(value, numbers.Integral):
        return _format_number(int(value), 1, call)
    if isinstance(value, numbers.Rational):
        return _format_number(int(value.numerator), int(value.denominator), call)
    if isinstance(value, (list, dict)):
        if depth > MAX_DEPTH:
            _format_fail(call, f"values nested more than {MAX_DEPTH} deep")
        if isinstance(value, list):
            items = (_format_value(v, depth + 1, call) for v in value)
            return "[" + ", ".join(items) + "]"
        entries = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, numbers.Integral):
                _format_fail(call, f"dict key {key!r} is not an integer")
            key_text = _format_number(int(key), 1, call)
            entries.append(f"{key_text}: {_format_value(item, depth + 1, call)}")
        return "{" + ", ".join(entries) + "}"
    _format_fail(call, f"unsupported value {value!r} of type {type(value).__name__}")


def format_spec(call: SpecCall) -> str:
    """Print ``call`` as a canonical spec that :func:`parse_spec` reads back equal.

    Canonical means: no spaces except one after each ``,`` and ``:``, numbers in
    lowest terms (``1/4``, not ``0.25`` or ``2/8``), arguments and dict entries in
    their given order, and a plain-``str`` ``args == {"path": ...}`` written
    positionally. Values may be ``int`` (or any integral number), ``sympy.Rational``,
    ``fractions.Fraction``, identifier strings (:class:`Name` or ``str``), and lists
    and int-keyed dicts of these; anything else raises
    :class:`~rbmtheory.errors.RBMInputError`.

    >>> format_spec(SpecCall("poisson", {"q": [sympy.Rational(1, 2), Name("q")]}))
    'poisson(q=[1/2, q])'
    >>> format_spec(SpecCall("family", {"path": "path/to/file.json"}))
    'family(path/to/file.json)'
    """
    if not isinstance(call, SpecCall):
        _format_fail(call, "not a SpecCall")
    if not isinstance(call.name, str) or _SCHEME_NAME_RE.fullmatch(call.name) is None:
        _format_fail(call, f"bad scheme name {call.name!r}")
    args = call.args
    if not isinstance(args, dict):
        _format_fail(call, "args is not a dict")
    if not args:
        return call.name
    if len(args) == 1 and type(args.get("path")) is str:
        path = args["path"]
        if _PATH_RE.fullmatch(path) is None:
            _format_fail(call, f"bad file path {path!r}")
        return f"{call.name}({path})"
    parts = []
    for key, value in args.items():
        if not isinstance(key, str) or _IDENT_RE.fullmatch(key) is None:
            _format_fail(call, f"argument name {key!r} is not an identifier")
        parts.append(f"{key}={_format_value(value, 1, call)}")
    return f"{call.name}({', '.join(parts)})"
