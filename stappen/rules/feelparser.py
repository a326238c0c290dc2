"""Parse FEEL expressions and unary tests into the nodes of ``feelsyntax``."""

from __future__ import annotations

import re

from stappen.rules import feelvalues
from stappen.rules.errors import FeelNameError, FeelSyntaxError
from stappen.rules.feelsyntax import (
    Between,
    Binary,
    Call,
    Comparison,
    ContextExpr,
    Filter,
    If,
    In,
    InputValue,
    Iteration,
    ListExpr,
    Literal,
    Name,
    Negation,
    Path,
    RangeExpr,
    Token,
    UnaryTests,
    tokenize,
)

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_CONSTANTS = {"true": True, "false": False, "null": None}
_CONTEXT_KEY = re.compile(r"[{,]\s*([^\W\d][\w ]*?)\s*:(?!:)")


def parse_expression(text: str, names: frozenset[str] = frozenset()):
    """Parse a FEEL expression; ``names`` are the names in scope."""
    parser = _Parser(text, names)
    node = parser.expression()
    parser.expect_end()
    return node


def parse_unary_tests(text: str, names: frozenset[str] = frozenset()) -> UnaryTests:
    """Parse a decision table input entry; an empty text means ``-``."""
    stripped = text.strip()
    if stripped in ("", "-"):
        return UnaryTests(())
    parser = _Parser(text, names)
    negated = parser.peek_text("not") and parser.peek_text("(", 1)
    if negated:
        parser.advance()
        parser.advance()
    tests = parser.positive_tests()
    if negated:
        parser.expect(")")
    parser.expect_end()
    return UnaryTests(tuple(tests), negated)


class _Parser:
    def __init__(self, text: str, names: frozenset[str]) -> None:
        keys = {" ".join(key.split()) for key in _CONTEXT_KEY.findall(text)}
        self.tokens: list[Token] = tokenize(text, names | keys)
        self.index = 0
        # Set while reading the end of a range such as ]1..10[, where the
        # closing '[' must not start a filter.
        self.in_range_end = False

    # Token access

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek_text(self, text: str, ahead: int = 0) -> bool:
        position = min(self.index + ahead, len(self.tokens) - 1)
        token = self.tokens[position]
        return token.text == text and token.kind != "string"

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek_text(text):
            self.advance()
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.peek_text(text):
            self.fail(f"expected {text!r}")
        return self.advance()

    def expect_end(self) -> None:
        if self.current.kind != "end":
            self.fail("expected the end of the text")

    def fail(self, expectation: str):
        token = self.current
        if token.kind == "end":
            raise FeelSyntaxError(f"{expectation}, but the text ends", token.column)
        if token.kind == "name" and self.index > 0:
            before = self.tokens[self.index - 1]
            if before.kind == "name":
                raise FeelNameError(f"{before.text} {token.text}", before.column)
        grouped = self._grouped_number()
        if grouped is not None:
            raise FeelSyntaxError(
                f"{expectation}, found {token.text!r}: {grouped!r} has dots as "
                f"thousands separators; write it without them "
                f"({grouped.replace('.', '')})",
                token.column,
            )
        raise FeelSyntaxError(f"{expectation}, found {token.text!r}", token.column)

    def _grouped_number(self) -> str | None:
        """Return the number with thousands dots the parser stopped in, or None.

        The tokenizer reads '1.000.000' as the number 1.000 followed by
        .000, so the parser fails at the second part.
        """
        if self.index == 0 or not self.current.text.startswith("."):
            return None
        first = self.tokens[self.index - 1]
        if first.kind != "number" or "." not in first.text:
            return None
        text, end = first.text, first.column + len(first.text)
        for token in self.tokens[self.index :]:
            if token.kind != "number" or token.column != end:
                break
            if not token.text.startswith("."):
                break
            text += token.text
            end += len(token.text)
        return text

    # Expressions, from the loosest binding to the tightest

    def expression(self):
        token = self.current
        if token.kind == "keyword":
            if token.text == "if":
                return self.conditional()
            if token.text in ("for", "some", "every"):
                return self.iteration()
            if token.text == "function":
                raise FeelSyntaxError(
                    "function definitions are not supported", token.column
                )
        return self.disjunction()

    def conditional(self) -> If:
        self.expect("if")
        condition = self.expression()
        self.expect("then")
        then = self.expression()
        self.expect("else")
        return If(condition, then, self.expression())

    def iteration(self) -> Iteration:
        kind = self.advance().text
        bindings = []
        while True:
            name = self.name_words(stop="in")
            self.expect("in")
            bindings.append((name, self.expression()))
            if not self.accept(","):
                break
        self.expect("return" if kind == "for" else "satisfies")
        return Iteration(kind, tuple(bindings), self.expression())

    def binary_level(self, operators: tuple[str, ...], operand) -> object:
        """Parse ``operand (operator operand)*``, grouping to the left."""
        node = operand()
        while self.current.text in operators and self.current.kind != "string":
            operator = self.advance().text
            node = Binary(operator, node, operand())
        return node

    def disjunction(self):
        return self.binary_level(("or",), self.conjunction)

    def conjunction(self):
        return self.binary_level(("and",), self.comparison)

    def comparison(self):
        node = self.additive()
        token = self.current
        if token.kind == "operator" and token.text in COMPARISONS:
            self.advance()
            return Binary(token.text, node, self.additive())
        if self.accept("between"):
            low = self.additive()
            self.expect("and")
            return Between(node, low, self.additive())
        if self.accept("in"):
            return In(node, self.in_tests())
        if token.text == "instance" and token.kind == "keyword":
            raise FeelSyntaxError("'instance of' is not supported", token.column)
        return node

    def in_tests(self) -> UnaryTests:
        if self.peek_text("("):
            start = self.index
            try:
                self.advance()
                tests = self.positive_tests()
                self.expect(")")
                return UnaryTests(tuple(tests))
            except FeelSyntaxError:
                self.index = start
        return UnaryTests((self.positive_test(),))

    def additive(self):
        return self.binary_level(("+", "-"), self.multiplicative)

    def multiplicative(self):
        return self.binary_level(("*", "/"), self.exponentiation)

    def exponentiation(self):
        return self.binary_level(("**",), self.negation)

    def negation(self):
        if self.current.kind == "operator" and self.accept("-"):
            operand = self.negation()
            if isinstance(operand, Literal) and feelvalues.is_number(operand.value):
                return Literal(-operand.value)
            return Negation(operand)
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while True:
            if self.accept("."):
                node = Path(node, self.member_name())
            elif self.peek_text("[") and not self.in_range_end:
                self.advance()
                node = Filter(node, self.expression())
                self.expect("]")
            elif self.peek_text("("):
                node = self.call(node)
            else:
                return node

    def member_name(self) -> str:
        token = self.current
        if token.kind not in ("name", "keyword"):
            self.fail("expected a name after '.'")
        self.advance()
        return token.text

    def call(self, function) -> Call:
        column = self.expect("(").column
        positional, named = [], []
        while not self.peek_text(")"):
            key = self.argument_name()
            if key is None:
                positional.append(self.expression())
            else:
                named.append((key, self.expression()))
            if not self.accept(","):
                break
        self.expect(")")
        if positional and named:
            raise FeelSyntaxError(
                "a call passes its arguments either all by name or all by position",
                column,
            )
        return Call(function, tuple(positional), tuple(named) or None, column)

    def argument_name(self) -> str | None:
        """Read ``name:`` of a named argument, or return None and move nothing."""
        start = self.index
        words = []
        while self.current.kind in ("name", "keyword"):
            words.append(self.advance().text)
        if words and self.peek_text(":"):
            self.advance()
            return " ".join(words)
        self.index = start
        return None

    def name_words(self, stop: str) -> str:
        words = []
        while self.current.kind in ("name", "keyword") and self.current.text != stop:
            words.append(self.advance().text)
        if not words:
            self.fail("expected a name")
        return " ".join(words)

    # Primary expressions

    def primary(self):
        token = self.current
        kind, text = token.kind, token.text
        if kind in ("number", "string"):
            self.advance()
            return Literal(token.value)
        if kind == "keyword" and text in _CONSTANTS:
            self.advance()
            return Literal(_CONSTANTS[text])
        if kind == "name":
            self.advance()
            return Name(text, token.column)
        if kind == "operator":
            in_range_end, self.in_range_end = self.in_range_end, False
            node = self.bracketed(token)
            self.in_range_end = in_range_end
            return node
        self.fail("expected a value")

    def bracketed(self, token: Token):
        text = token.text
        if text == "?":
            self.advance()
            return InputValue()
        if text == "@":
            return self.temporal_literal()
        if text == "{":
            return self.context()
        if text == "]":
            self.advance()
            return self.range_rest(self.expression(), low_closed=False)
        if text == "(":
            self.advance()
            node = self.expression()
            if self.peek_text(".."):
                return self.range_rest(node, low_closed=False)
            self.expect(")")
            return node
        if text == "[":
            return self.list_or_range()
        self.fail("expected a value")

    def list_or_range(self):
        self.expect("[")
        if self.accept("]"):
            return ListExpr(())
        first = self.expression()
        if self.peek_text(".."):
            return self.range_rest(first, low_closed=True)
        items = [first]
        while self.accept(","):
            items.append(self.expression())
        self.expect("]")
        return ListExpr(tuple(items))

    def range_rest(self, low, *, low_closed: bool) -> RangeExpr:
        self.expect("..")
        self.in_range_end = True
        high = self.expression()
        self.in_range_end = False
        if self.accept("]"):
            return RangeExpr(low, high, low_closed, True)
        if self.accept(")") or self.accept("["):
            return RangeExpr(low, high, low_closed, False)
        self.fail("expected ']', ')' or '[' to close the range")

    def context(self) -> ContextExpr:
        self.expect("{")
        entries = []
        while not self.peek_text("}"):
            if self.current.kind == "string":
                key = self.advance().value
            else:
                key = self.name_words(stop=":")
            self.expect(":")
            entries.append((key, self.expression()))
            if not self.accept(","):
                break
        self.expect("}")
        return ContextExpr(tuple(entries))

    def temporal_literal(self) -> Literal:
        self.expect("@")
        token = self.current
        if token.kind != "string":
            self.fail("expected a string after '@'")
        self.advance()
        value = parse_temporal(token.value)
        if value is None:
            raise FeelSyntaxError(
                f"{token.text} is not a date, time, date and time or duration",
                token.column,
            )
        return Literal(value)

    # Unary tests

    def positive_tests(self) -> list:
        tests = [self.positive_test()]
        while self.accept(","):
            self.reject_grouped_digits(tests[-1])
            tests.append(self.positive_test())
        return tests

    def reject_grouped_digits(self, previous) -> None:
        """Raise for ``<= 1,533``, where the comma was meant inside the number.

        FEEL reads that text as two tests, ``<= 1`` or ``= 533``, which matches
        almost nothing. A comparison with a number, then a comma directly
        followed by digits, is taken as that mistake.
        """
        comma = self.tokens[self.index - 1]
        token = self.current
        if not (isinstance(previous, Comparison) and token.kind == "number"):
            return
        if (
            not isinstance(previous.operand, Literal)
            or token.column != comma.column + 1
        ):
            return
        bound = feelvalues.format_number(previous.operand.value)
        reading = (
            f"',' separates two tests, so this reads as '{previous.operator} "
            f"{bound}' or '= {token.text}'"
        )
        bound_token = self.tokens[self.index - 2]
        if bound_token.kind == "number" and "." in bound_token.text:
            # A dot before the comma, as in '1.400,00', is a Dutch thousands
            # separator, so the comma can only be the decimal comma.
            suggestion = f"{bound_token.text.replace('.', '')}.{token.text}"
            raise FeelSyntaxError(
                f"{reading}; write the number without a thousands separator and"
                f" with a dot for decimals ({suggestion})",
                comma.column,
            )
        raise FeelSyntaxError(
            f"{reading}; write the number without a thousands separator"
            f" ({bound}{token.text}) and with a dot for decimals"
            f" ({bound}.{token.text}), or write '{previous.operator} {bound},"
            f" = {token.text}' if you meant two tests",
            comma.column,
        )

    def positive_test(self):
        token = self.current
        if token.kind == "operator" and token.text in COMPARISONS:
            self.advance()
            return Comparison(token.text, self.additive())
        return self.expression()


def parse_temporal(text: str):
    """Read the text of an ``@"..."`` literal, or return None."""
    if text.lstrip("-").startswith("P"):
        return feelvalues.parse_duration(text)
    if "T" in text:
        return feelvalues.parse_date_time(text)
    if ":" in text:
        return feelvalues.parse_time(text)
    return feelvalues.parse_date(text)
