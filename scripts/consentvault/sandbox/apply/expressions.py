"""Terraform expressions as cdktf writes them into `cdk.tf.json`.

A JSON string may hold `${...}` templates. A string that is exactly one
template evaluates to the expression's own value (a list stays a list);
otherwise each template is turned into text in place. `$${` is a literal
`${`. The expression language covered is the part cdktf emits: literals,
lists and objects, references with `.attr` and `[index]`, function calls,
arithmetic, comparison, logic and `cond ? a : b`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from consentvault.errors import ConfigError
from consentvault.sandbox.apply import functions

# Roots that name no resource; everything else is `<type>.<name>`.
NON_RESOURCE_ROOTS = {"var", "local", "path", "count", "each", "terraform", "self"}


class ExpressionError(ConfigError):
    """An expression in the synthesized stack cannot be parsed or evaluated."""


@dataclass(frozen=True)
class Node:
    kind: str
    value: Any = None
    children: tuple[Node, ...] = ()


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>")
    | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||\.\.\.|[-+*/%<>!?:.,()\[\]{}=])
    )""",
    re.VERBOSE,
)


# ---- templates ---------------------------------------------------------------


def split_template(text: str) -> list[str | Node]:
    """Literal text and parsed `${...}` expressions of one JSON string, in order."""
    parts: list[str | Node] = []
    literal: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("$${", index):
            literal.append("${")
            index += 3
        elif text.startswith("${", index):
            end = _template_end(text, index + 2)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(parse(text[index + 2 : end]))
            index = end + 1
        else:
            literal.append(text[index])
            index += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _template_end(text: str, start: int) -> int:
    """Index of the `}` closing a template opened just before `start`."""
    depth, index, in_string = 0, start, False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    raise ExpressionError(f"unterminated ${{...}} in {text!r}")


# ---- parsing -----------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = list(self._tokenize(source))
        self.position = 0

    def _tokenize(self, source: str) -> Iterator[tuple[str, Any]]:
        index = 0
        while index < len(source):
            if source[index:].strip() == "":
                break
            match = _TOKEN.match(source, index)
            if match is None:
                raise ExpressionError(f"cannot read {source!r} at {source[index:]!r}")
            kind = match.lastgroup
            if kind == "string":
                value, index = _read_string(source, match.end())
                yield "string", value
                continue
            yield kind, match.group(kind)
            index = match.end()
        yield "end", None

    def peek(self, *values: str) -> bool:
        kind, value = self.tokens[self.position]
        return kind in ("op", "ident") and value in values

    def take(self) -> tuple[str, Any]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if got != value:
            raise ExpressionError(f"expected {value!r} in {self.source!r}, got {got!r}")

    def parse(self) -> Node:
        node = self.expression()
        if self.tokens[self.position][0] != "end":
            raise ExpressionError(
                f"unexpected {self.tokens[self.position][1]!r} in {self.source!r}"
            )
        return node

    def expression(self) -> Node:
        condition = self.binary(0)
        if self.peek("?"):
            self.take()
            when_true = self.expression()
            self.expect(":")
            when_false = self.expression()
            return Node("cond", None, (condition, when_true, when_false))
        return condition

    _LEVELS = (
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.tokens[self.position][0] == "op" and self.peek(*self._LEVELS[level]):
            operator = self.take()[1]
            node = Node("binary", operator, (node, self.binary(level + 1)))
        return node

    def unary(self) -> Node:
        if self.tokens[self.position][0] == "op" and self.peek("!", "-"):
            operator = self.take()[1]
            return Node("unary", operator, (self.unary(),))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.tokens[self.position][0] == "op" and self.peek("."):
                self.take()
                kind, value = self.take()
                key = int(value) if kind == "number" else value
                node = Node("get", None, (node, Node("literal", key)))
            elif self.tokens[self.position][0] == "op" and self.peek("["):
                self.take()
                index = self.expression()
                self.expect("]")
                node = Node("get", None, (node, index))
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "number":
            return Node("literal", float(value) if "." in value else int(value))
        if kind == "string":
            return Node("template", tuple(split_template(value)))
        if kind == "ident":
            if value in ("true", "false"):
                return Node("literal", value == "true")
            if value == "null":
                return Node("literal", None)
            if self.tokens[self.position] == ("op", "("):
                return self.call(value)
            return Node("name", value)
        if value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if value == "[":
            return Node("list", None, tuple(self.items("]")))
        if value == "{":
            return self.object()
        raise ExpressionError(f"unexpected {value!r} in {self.source!r}")

    def call(self, name: str) -> Node:
        self.take()
        return Node("call", name, tuple(self.items(")")))

    def items(self, closing: str) -> list[Node]:
        items: list[Node] = []
        while not self.peek(closing):
            items.append(self.expression())
            if self.peek(","):
                self.take()
            elif self.peek("..."):
                self.take()
        self.take()
        return items

    def object(self) -> Node:
        pairs: list[Node] = []
        while not self.peek("}"):
            key = self.expression()
            if key.kind == "name":
                key = Node("literal", key.value)
            if not self.peek("=", ":"):
                raise ExpressionError(f"expected = or : in object of {self.source!r}")
            self.take()
            pairs.append(Node("pair", None, (key, self.expression())))
            if self.peek(","):
                self.take()
        self.take()
        return Node("object", None, tuple(pairs))


def _read_string(source: str, index: int) -> tuple[str, int]:
    """The raw text of a quoted HCL string starting after its `"`, escapes decoded."""
    chars: list[str] = []
    depth = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            escaped = source[index + 1]
            chars.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
            index += 2
            continue
        if source.startswith("${", index):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == '"' and depth == 0:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise ExpressionError(f"unterminated string in {source!r}")


_CACHE: dict[str, Node] = {}


def parse(source: str) -> Node:
    if source not in _CACHE:
        _CACHE[source] = _Parser(source).parse()
    return _CACHE[source]


# ---- references ----------------------------------------------------------------


def references(value: Any) -> set[str]:
    """Addresses (`type.name`, `data.type.name`) that a JSON value refers to."""
    found: set[str] = set()
    for node in expressions_in(value):
        _collect(node, found)
    return found


def expressions_in(value: Any) -> Iterator[Node]:
    if isinstance(value, str):
        yield from (part for part in split_template(value) if isinstance(part, Node))
    elif isinstance(value, list):
        for item in value:
            yield from expressions_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions_in(item)


def _collect(node: Node, found: set[str]) -> None:
    path = _static_path(node)
    if path:
        wanted = 3 if path[0] == "data" else 2
        named = path[0] not in NON_RESOURCE_ROOTS or path[0] == "local"
        if named and len(path) >= wanted:
            found.add(".".join(str(part) for part in path[:wanted]))
            return
    for child in node.children:
        _collect(child, found)
    if node.kind == "template":
        for part in node.value:
            if isinstance(part, Node):
                _collect(part, found)


def _static_path(node: Node) -> list[Any] | None:
    if node.kind == "name":
        return [node.value]
    if node.kind == "get" and node.children[1].kind == "literal":
        base = _static_path(node.children[0])
        return None if base is None else [*base, node.children[1].value]
    return None


# ---- evaluation ------------------------------------------------------------------


Scope = Callable[[str], Any]


def evaluate(value: Any, scope: Scope) -> Any:
    """`value` (a JSON value from cdk.tf.json) with every template evaluated."""
    if isinstance(value, str):
        parts = split_template(value)
        if len(parts) == 1 and isinstance(parts[0], Node):
            return _evaluate(parts[0], scope)
        return "".join(
            part if isinstance(part, str) else _as_text(_evaluate(part, scope))
            for part in parts
        )
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: evaluate(item, scope) for key, item in value.items()}
    return value


def _evaluate(node: Node, scope: Scope) -> Any:
    kind = node.kind
    if kind == "literal":
        return node.value
    if kind == "template":
        parts = node.value
        if len(parts) == 1 and isinstance(parts[0], Node):
            return _evaluate(parts[0], scope)
        return "".join(
            p if isinstance(p, str) else _as_text(_evaluate(p, scope)) for p in parts
        )
    if kind == "name":
        return scope(node.value)
    if kind == "get":
        return _index(
            _evaluate(node.children[0], scope), _evaluate(node.children[1], scope)
        )
    if kind == "list":
        return [_evaluate(child, scope) for child in node.children]
    if kind == "object":
        return {
            _as_text(_evaluate(pair.children[0], scope)): _evaluate(
                pair.children[1], scope
            )
            for pair in node.children
        }
    if kind == "cond":
        condition, when_true, when_false = node.children
        chosen = when_true if _evaluate(condition, scope) else when_false
        return _evaluate(chosen, scope)
    if kind == "unary":
        operand = _evaluate(node.children[0], scope)
        return (not operand) if node.value == "!" else -operand
    if kind == "binary":
        return _binary(
            node.value, *(_evaluate(child, scope) for child in node.children)
        )
    if kind == "call":
        arguments = [_evaluate(child, scope) for child in node.children]
        return functions.call(node.value, arguments)
    raise ExpressionError(f"cannot evaluate a {kind} node")


def _index(container: Any, key: Any) -> Any:
    try:
        if isinstance(container, list):
            return container[int(key)]
        return container[key]
    except (KeyError, IndexError, TypeError, ValueError):
        raise ExpressionError(f"no attribute or index {key!r}") from None


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "&&": lambda a, b: a and b,
    "||": lambda a, b: a or b,
}


def _binary(operator: str, left: Any, right: Any) -> Any:
    if operator in "+-*/%<><=>=" and isinstance(left, str) and isinstance(right, str):
        left, right = _number(left), _number(right)
    return _OPERATORS[operator](left, right)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ExpressionError(f"{text!r} is not a number") from None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)
