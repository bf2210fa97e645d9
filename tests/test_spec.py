"""Tests for :mod:`rbmtheory.spec`: the scheme-spec parser and printer."""
from __future__ import annotations

import ast
import inspect
import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rbmtheory.spec as spec_module
from rbmtheory.errors import RBMInputError
from rbmtheory.spec import (
    MAX_DEPTH,
    MAX_SPEC_LENGTH,
    Name,
    SpecCall,
    format_spec,
    parse_spec,
)

R = sympy.Rational
# Fast, and no example database (nothing is saved between runs).
QUICK = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def kind(value: object) -> str:
    """The value's category; ``Name`` and ``str`` compare equal, so check it apart."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, sympy.Integer):
        return "sympy.Integer"
    if isinstance(value, sympy.Rational):
        return "sympy.Rational"
    if isinstance(value, Name):
        return "Name"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def same(a: object, b: object) -> bool:
    """Equal *and* of the same kinds all the way down."""
    if kind(a) != kind(b):
        return False
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return len(a) == len(b) and all(
            same(a_key, b_key) and same(a_item, b_item)
            for (a_key, a_item), (b_key, b_item) in zip(a.items(), b.items())
        )
    return a == b


def same_call(a: SpecCall, b: SpecCall) -> bool:
    return a.name == b.name and same(a.args, b.args)


# -- every example from the spec grammar -----------------------------------------

EXAMPLES: list[tuple[str, SpecCall, str]] = [
    ("single", SpecCall("single"), "single"),
    ("drop-one", SpecCall("drop-one"), "drop-one"),
    ("pick-one", SpecCall("pick-one"), "pick-one"),
    ("all-subsets", SpecCall("all-subsets"), "all-subsets"),
    ("balanced(r=3)", SpecCall("balanced", {"r": 3}), "balanced(r=3)"),
    ("disjoint(r=3)", SpecCall("disjoint", {"r": 3}), "disjoint(r=3)"),
    (
        "disjoint(r=3, layout=interleaved)",
        SpecCall("disjoint", {"r": 3, "layout": Name("interleaved")}),
        "disjoint(r=3, layout=interleaved)",
    ),
    (
        "disjoint(blocks=[[0,1],[2,3,4]])",
        SpecCall("disjoint", {"blocks": [[0, 1], [2, 3, 4]]}),
        "disjoint(blocks=[[0, 1], [2, 3, 4]])",
    ),
    ("bernoulli(q=1/3)", SpecCall("bernoulli", {"q": R(1, 3)}), "bernoulli(q=1/3)"),
    ("bernoulli(q=0.25)", SpecCall("bernoulli", {"q": R(1, 4)}), "bernoulli(q=1/4)"),
    (
        "size-mixture(sizes={1: 1/3, 4: 2/3})",
        SpecCall("size-mixture", {"sizes": {1: R(1, 3), 4: R(2, 3)}}),
        "size-mixture(sizes={1: 1/3, 4: 2/3})",
    ),
    (
        "poisson(q=[1/2, 1/3, 1/4])",
        SpecCall("poisson", {"q": [R(1, 2), R(1, 3), R(1, 4)]}),
        "poisson(q=[1/2, 1/3, 1/4])",
    ),
    (
        "pick-one(q=[1/2, 1/4, 1/4])",
        SpecCall("pick-one", {"q": [R(1, 2), R(1, 4), R(1, 4)]}),
        "pick-one(q=[1/2, 1/4, 1/4])",
    ),
    (
        "drop-one(q=[0.5, 0.25, 1/4])",
        SpecCall("drop-one", {"q": [R(1, 2), R(1, 4), R(1, 4)]}),
        "drop-one(q=[1/2, 1/4, 1/4])",
    ),
    (
        "stratified(strata=[[0,1,2],[3,4]], r=[1,1])",
        SpecCall("stratified", {"strata": [[0, 1, 2], [3, 4]], "r": [1, 1]}),
        "stratified(strata=[[0, 1, 2], [3, 4]], r=[1, 1])",
    ),
    (
        "family(path/to/file.json)",
        SpecCall("family", {"path": "path/to/file.json"}),
        "family(path/to/file.json)",
    ),
    ("balanced(r=r)", SpecCall("balanced", {"r": Name("r")}), "balanced(r=r)"),
    ("bernoulli(q=q)", SpecCall("bernoulli", {"q": Name("q")}), "bernoulli(q=q)"),
]


@pytest.mark.parametrize(("text", "expected", "canonical"), EXAMPLES)
def test_examples_parse(text: str, expected: SpecCall, canonical: str) -> None:
    call = parse_spec(text)
    assert call == expected
    assert same_call(call, expected)


@pytest.mark.parametrize(("text", "expected", "canonical"), EXAMPLES)
def test_examples_format_and_round_trip(
    text: str, expected: SpecCall, canonical: str
) -> None:
    assert format_spec(parse_spec(text)) == canonical
    assert format_spec(expected) == canonical
    assert same_call(parse_spec(canonical), expected)


def test_path_is_a_plain_str_and_identifier_is_a_name() -> None:
    path = parse_spec("family(path/to/file.json)").args["path"]
    assert type(path) is str
    q = parse_spec("bernoulli(q=q)").args["q"]
    assert type(q) is Name and q == "q"
    assert sympy.Symbol(q) == sympy.Symbol("q")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", R(1, 10)),
        ("1e-3", R(1, 1000)),
        ("1E-3", R(1, 1000)),
        ("2.5e+2", 250),
        ("-0.75", R(-3, 4)),
        ("-2/4", R(-1, 2)),
        ("4/2", 2),
        ("2.0", 2),
        ("-7", -7),
        ("0", 0),
        ("-0", 0),
        ("007", 7),
        ("1/3", R(1, 3)),
    ],
)
def test_numbers_are_exact(text: str, value: object) -> None:
    got = parse_spec(f"x(v={text})").args["v"]
    assert same(got, value), (got, value)


def test_whitespace_between_tokens() -> None:
    text = " \tsize-mixture ( sizes = { 1 : 1/3 ,\n 4 : -2 / 3 } , r = [ 1 , 2 ] ) \n"
    call = parse_spec(text)
    expected = {"sizes": {1: R(1, 3), 4: R(-2, 3)}, "r": [1, 2]}
    assert same_call(call, SpecCall("size-mixture", expected))
    assert parse_spec("family( a/b.json )") == SpecCall("family", {"path": "a/b.json"})


def test_empty_parentheses_and_empty_containers() -> None:
    assert parse_spec("single()") == SpecCall("single")
    assert format_spec(parse_spec("single()")) == "single"
    call = parse_spec("x(a=[], b={}, c=[[], {}])")
    assert same_call(call, SpecCall("x", {"a": [], "b": {}, "c": [[], {}]}))
    assert format_spec(call) == "x(a=[], b={}, c=[[], {}])"


def test_nested_and_negative_values() -> None:
    call = parse_spec("x(v={-1: [1/2, {2: q}], 3: [[-4]]})")
    expected = {-1: [R(1, 2), {2: Name("q")}], 3: [[-4]]}
    assert same(call.args["v"], expected)


def test_argument_order_is_kept() -> None:
    call = parse_spec("disjoint(layout=interleaved, r=3)")
    assert list(call.args) == ["layout", "r"]
    assert format_spec(call) == "disjoint(layout=interleaved, r=3)"


def test_spec_call_is_frozen_and_unhashable() -> None:
    call = parse_spec("balanced(r=3)")
    with pytest.raises(AttributeError):
        call.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(call)


def test_name_checks_its_text() -> None:
    assert repr(Name("q_1")) == "Name('q_1')"
    for bad in ["", "1q", "a-b", "a b", "é"]:
        with pytest.raises(RBMInputError):
            Name(bad)


# -- malformed specs -----------------------------------------------------------

MALFORMED: list[tuple[str, str]] = [
    ("", "expected a scheme name"),
    ("   ", "expected a scheme name"),
    ("(r=3)", "expected a scheme name"),
    ("balanced(r=3", "column 13: expected ')' or ','"),
    ("balanced(r=3))", "expected end of input"),
    ("balanced(r=3)extra", "expected end of input"),
    ("balanced r=3", "expected '(' or end of input"),
    ("bernoulli(q=1/0)", "column 15: zero denominator"),
    ("balanced(r=1, r=2)", "duplicate argument 'r'"),
    ("balanced(r=3,)", "trailing comma"),
    ("x(a=[1, 2,])", "trailing comma"),
    ("x(a={1: 2,})", "trailing comma"),
    ("x(,)", "expected an argument name or a file path"),
    ("x(a=1,,b=2)", "expected an argument name"),
    ("Balanced(r=3)", "bad scheme name 'Balanced'"),
    ("drop_one", "bad scheme name"),
    ("drop--one", "bad scheme name"),
    ("drop-one-", "bad scheme name"),
    ("-x", "bad scheme name"),
    ("balanced(r=)", "expected a value"),
    ("balanced(=3)", "expected an argument name or a file path"),
    ("balanced(r 3)", "expected ')' after the file path"),
    ("balanced(r=3 s=4)", "expected ')' or ','"),
    ("balanced(r=3;)", "unexpected character ';'"),
    ("balanced(r=b=c)", "expected ')' or ','"),
    ("x(a=1, b)", "expected '=' after argument name 'b'"),
    ("bernoulli(q=1/-3)", "positive integer denominator"),
    ("bernoulli(q=1/x)", "positive integer denominator"),
    ("bernoulli(q=1/)", "positive integer denominator"),
    ("bernoulli(q=0.5/2)", "integer numerator"),
    ("bernoulli(q=1/0.5)", "integer denominator"),
    ("bernoulli(q=1/2/3)", "expected ')' or ','"),
    ("bernoulli(q=1.)", "malformed number '1.'"),
    ("bernoulli(q=1e)", "malformed number '1e'"),
    ("bernoulli(q=1-2)", "malformed number"),
    ("bernoulli(q=1+2)", "malformed number"),
    ("bernoulli(q=2x)", "malformed number"),
    ("bernoulli(q=.5)", "unexpected character '.'"),
    ("bernoulli(q=- 3)", "unexpected character '-'"),
    ("bernoulli(q=1*2)", "unexpected character '*'"),
    ("bernoulli(q=\u0663)", "unexpected character"),  # a non-ASCII digit
    ("x(\u00e9=1)", "unexpected character"),
    ("x(a=[1 2])", "expected ']' or ','"),
    ("x(a=[)", "expected a value"),
    ("x(a=[1, 2)", "expected ']' or ','"),
    ("x(a={1 2})", "expected ':' after key 1"),
    ("x(a={x: 3})", "expected an integer key"),
    ("x(a={1/2: 3})", "expected ':' after key 1"),
    ("x(a={1: 2, 1: 3})", "duplicate key 1"),
    ("x(a={1: 2, 01: 3})", "duplicate key 1"),
    ("x(a={1: 2)", "expected '}' or ','"),
    ("x(a=round-robin)", "unexpected character '-'"),
    ("x(a='s')", "unexpected character"),
    ('x(a="s")', "unexpected character"),
    ("x(a=__import__('os').system('true'))", "expected ')' or ','"),
    ("x(a=lambda: 1)", "expected ')' or ','"),
    ("family(a b)", "expected ')' after the file path"),
    ("family(a.json, r=3)", "a file path must be the only argument"),
    ("family(r=3, a.json)", "a file path must be the only argument"),
    ("family(a\\b.json)", "unexpected character"),
    ("family(~/a.json)", "unexpected character '~'"),
    ("x(a=" + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + ")", "nested more than"),
    ("x(a=1e999999)", "exponent out of range"),
    ("x(a=1e1000)", "more than 1000 digits"),
    ("x(a=" + "9" * 1001 + ")", "more than 1000 digits"),
    ("x(a=1/" + "9" * 1001 + ")", "more than 1000 digits"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_specs_raise(text: str, message: str) -> None:
    with pytest.raises(RBMInputError) as info:
        parse_spec(text)
    error = str(info.value)
    assert "\n" not in error
    quoted = repr(text) if len(text) <= 200 else repr(text[:200]) + "..."
    assert error.startswith(f"bad scheme spec {quoted} at column ")
    assert message in error


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_spec("balanced(r=3")


def test_column_counts_from_one() -> None:
    with pytest.raises(RBMInputError, match=r"at column 1: "):
        parse_spec("?")
    with pytest.raises(RBMInputError, match=r"at column 13: duplicate argument 'r'"):
        parse_spec("x(r=1, s=2, r=3)")
    with pytest.raises(RBMInputError, match=r"at column 6: expected"):
        parse_spec("x\n(a=)")  # the column counts characters of the whole spec


def test_non_string_and_too_long_specs() -> None:
    with pytest.raises(RBMInputError, match="must be a string"):
        parse_spec(3)  # type: ignore[arg-type]
    long_spec = "x(a=[" + "1, " * MAX_SPEC_LENGTH + "1])"
    with pytest.raises(RBMInputError, match="longer than") as info:
        parse_spec(long_spec)
    assert len(str(info.value)) < 400


def test_deepest_allowed_nesting_parses() -> None:
    text = "x(a=" + "[" * MAX_DEPTH + "]" * MAX_DEPTH + ")"
    call = parse_spec(text)
    assert format_spec(call) == text


# -- format_spec ---------------------------------------------------------------

def nested_list(depth: int) -> list[object]:
    """``[[...[]...]]`` with ``depth`` pairs of brackets."""
    value: list[object] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_format_nesting_limit_matches_parse() -> None:
    call = SpecCall("x", {"q": nested_list(MAX_DEPTH)})
    assert same_call(parse_spec(format_spec(call)), call)


def test_format_accepts_other_exact_numbers() -> None:
    call = SpecCall(
        "x", {"a": Fraction(2, 4), "b": sympy.Integer(5), "c": R(6, 3), "d": "sym"}
    )
    text = format_spec(call)
    assert text == "x(a=1/2, b=5, c=2, d=sym)"
    assert parse_spec(text) == call


def test_plain_str_path_is_positional_and_name_path_is_keyword() -> None:
    assert format_spec(SpecCall("family", {"path": "a.json"})) == "family(a.json)"
    assert format_spec(SpecCall("family", {"path": Name("a")})) == "family(path=a)"
    assert same_call(
        parse_spec("family(path=a)"), SpecCall("family", {"path": Name("a")})
    )


@pytest.mark.parametrize(
    "call",
    [
        SpecCall("Bad"),
        SpecCall("a_b"),
        SpecCall("x", {"q": 0.25}),
        SpecCall("x", {"q": sympy.Float(0.25)}),
        SpecCall("x", {"q": True}),
        SpecCall("x", {"q": (1, 2)}),
        SpecCall("x", {"q": {"a": 1}}),
        SpecCall("x", {"q": {True: 1}}),
        SpecCall("x", {"q": "a b"}),
        SpecCall("x", {"q": sympy.Symbol("q")}),
        SpecCall("x", {"bad-key": 1}),
        SpecCall("x", {"q": 10**1000}),
        SpecCall("x", {"path": "a b.json"}),
        SpecCall("x", {"path": ""}),
        SpecCall("x", {"path": "a.json", "r": 1}),
        SpecCall("x", {"q": nested_list(MAX_DEPTH + 1)}),
    ],
)
def test_format_rejects_what_cannot_round_trip(call: SpecCall) -> None:
    with pytest.raises(RBMInputError, match="cannot format scheme spec"):
        format_spec(call)


def test_format_rejects_cycles() -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    with pytest.raises(RBMInputError, match="nested more than"):
        format_spec(SpecCall("x", {"q": cyclic}))


def test_format_rejects_non_call() -> None:
    with pytest.raises(RBMInputError):
        format_spec("balanced(r=3)")  # type: ignore[arg-type]


# -- no evaluation anywhere ------------------------------------------------------

def test_module_never_evaluates_text() -> None:
    tree = ast.parse(inspect.getsource(spec_module))
    forbidden = {"eval", "exec", "compile", "__import__", "sympify", "parse_expr",
                 "S", "literal_eval"}
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                called.add(func.id)
            elif isinstance(func, ast.Attribute) and func.attr != "compile":
                called.add(func.attr)  # re.compile is the only allowed .compile
    assert not called & forbidden


# -- property tests --------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
scheme_names = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
paths = st.from_regex(r"[A-Za-z0-9_./-]{1,20}", fullmatch=True)
big_ints = st.integers(min_value=-(10**40), max_value=10**40)
rationals = st.builds(
    lambda p, q: R(p, q), big_ints, st.integers(min_value=2, max_value=10**20)
).filter(lambda r: r.q != 1)
leaves = big_ints | rationals | identifiers.map(Name)
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(big_ints, children, max_size=4),
    max_leaves=25,
)
keyword_calls = st.builds(
    SpecCall, scheme_names, st.dictionaries(identifiers, values, max_size=4)
)
path_calls = st.builds(
    lambda name, path: SpecCall(name, {"path": path}), scheme_names, paths
)
calls = keyword_calls | path_calls


@QUICK
@given(calls)
def test_round_trip_random_calls(call: SpecCall) -> None:
    text = format_spec(call)
    back = parse_spec(text)
    assert same_call(back, call), (call, text, back)
    assert format_spec(back) == text  # canonical: printing is idempotent


def _noisy(rng: random.Random, text: str) -> str:
    """Put random whitespace around the tokens of a canonical spec."""
    out = [rng.choice(["", " "])]
    for char in text:
        if char in "()[]{},=:":
            out += [rng.choice(["", " ", "\t", "\n  "]), char, rng.choice(["", "  "])]
        elif char == " ":
            out.append(rng.choice([" ", "", "\t"]))
        else:
            out.append(char)
    return "".join(out)


@QUICK
@given(st.randoms(use_true_random=False), keyword_calls)
def test_round_trip_with_random_whitespace(rng: random.Random, call: SpecCall) -> None:
    text = _noisy(rng, format_spec(call))
    assert same_call(parse_spec(text), call), text


@QUICK
@given(values)
def test_values_round_trip(value: object) -> None:
    call = SpecCall("x", {"v": value})
    assert same(parse_spec(format_spec(call)).args["v"], value)


spec_alphabet = st.sampled_from(list("abqr0129-_/.=,:()[]{} \t'\"e+*\\é"))


@QUICK
@given(st.text(spec_alphabet, max_size=40) | st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_input_error(text: str) -> None:
    try:
        call = parse_spec(text)
    except RBMInputError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("bad scheme spec ")
        return
    assert same_call(parse_spec(format_spec(call)), call)
