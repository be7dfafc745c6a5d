"""A parser of CloudWatch Logs Insights queries, for the commands and functions batchbox's dashboard
and saved queries use, by their documented grammar (Amazon CloudWatch Logs User Guide, "CloudWatch
Logs Insights language query syntax" and its pages on fields, display, filter, stats, sort, limit,
parse, and "Boolean, comparison, numeric, datetime, and other functions"). There is no AWS parser to
run here: this one accepts what those pages document and rejects anything else, naming the culprit
and where it is. It also knows which fields a query may read (the fields the batches log, and
aliases the query defines before it uses them) and what a time-series view needs.

    parse(query, fields, sources=False) -> Query     raises QueryError

Commands: `fields`, `display`, `filter`, `stats ... [by ...]`, `sort`, `limit`, `parse`, separated by
`|`, with `#` comments; with sources=True, the dashboard's leading `SOURCE '<log group>' |` (API
Reference, "Dashboard Body Structure and Syntax", log widget `query`). Expressions: `and`, `or`,
`not`, comparisons (= != < <= > >=), `like` and `=~` with a string or a /regex/, `in` and `not in`
with a [list], arithmetic (+ - * / ^ %), function calls, strings in double or single quotes, numbers,
fields (letters, digits, `_`, `.`, `@`; anything else in backticks).
"""

import re
from dataclasses import dataclass, field

AGGREGATES = {
    # name: (fewest arguments, most arguments); count(*) and count() count every event.
    "avg": (1, 1), "count": (0, 1), "count_distinct": (1, 1), "max": (1, 1), "min": (1, 1),
    "pct": (2, 2), "stddev": (1, 1), "sum": (1, 1), "earliest": (1, 1), "latest": (1, 1),
}
SCALARS = {
    "abs": (1, 1), "ceil": (1, 1), "floor": (1, 1), "greatest": (1, None), "least": (1, None),
    "log": (1, 1), "sqrt": (1, 1), "ispresent": (1, 1), "coalesce": (1, None), "isempty": (1, 1),
    "isblank": (1, 1), "concat": (1, None), "ltrim": (1, 2), "rtrim": (1, 2), "trim": (1, 2),
    "strlen": (1, 1), "toupper": (1, 1), "tolower": (1, 1), "substr": (2, 3), "replace": (3, 3),
    "strcontains": (2, 2), "datefloor": (2, 2), "dateceil": (2, 2),
}
# bin() only groups a stats command; its period is a number and a unit (CWL_QuerySyntax-Stats:
# "For all units and abbreviations that include more than one character, adding s to pluralize is
# supported").
PERIOD_UNITS = {"ms", "msec", "s", "sec", "m", "min", "h", "hr", "d", "w", "mo", "mon", "q", "qtr", "y", "yr",
                "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year"}
COMMANDS = {"fields", "display", "filter", "stats", "sort", "limit", "parse"}
KEYWORDS = {"and", "or", "not", "in", "like", "as", "by", "asc", "desc"}
MAX_LIMIT = 10000


class QueryError(ValueError):
    pass


@dataclass
class Token:
    kind: str  # name, field (backticked), string, regex, number, period, op, end
    text: str
    pos: int


@dataclass
class Stats:
    aggregates: list
    group_by: list  # "bin(<period>)" or a field name


@dataclass
class Query:
    sources: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    fields_read: set = field(default_factory=set)
    stats: list = field(default_factory=list)

    def time_series_problem(self):
        """Why this query cannot draw a time series, or None (Logs User Guide, "Visualizing time
        series data": one or more aggregation functions, grouped by bin() and nothing else)."""
        if not self.stats:
            return "it has no stats command"
        last = self.stats[-1]
        if len(last.group_by) != 1 or not last.group_by[0].startswith("bin("):
            return f"its stats is grouped by {last.group_by or 'nothing'}, not by bin() alone"
        return None


OPERATORS = ["=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "^", "%", "|", ",", "(", ")", "[", "]"]
NAME = re.compile(r"[@A-Za-z_][@A-Za-z0-9_.]*")
NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


def where(text, pos):
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def tokenize(text):
    tokens = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        previous = tokens[-1] if tokens else None
        regex_here = previous is not None and (
            (previous.kind == "name" and previous.text.lower() == "like")
            or (previous.kind == "op" and previous.text == "=~")
            or (len(tokens) >= 2 and tokens[-2].kind == "name" and tokens[-2].text == "parse")
        )
        if c in "\"'`" or (c == "/" and regex_here):
            j = i + 1
            while j < len(text) and text[j] != c:
                if text[j] == "\\":
                    j += 1
                if j < len(text) and text[j] == "\n" and c != "/":
                    break
                j += 1
            if j >= len(text) or text[j] != c:
                raise QueryError(f"unterminated {c}...{c} starting at {where(text, i)}")
            kind = {"\"": "string", "'": "string", "`": "field", "/": "regex"}[c]
            body = text[i + 1:j]
            if kind == "field" and not body:
                raise QueryError(f"empty `` field name at {where(text, i)}")
            tokens.append(Token(kind, body, i))
            i = j + 1
            continue
        m = NUMBER.match(text, i)
        if m:
            j = m.end()
            unit = re.match(r"[A-Za-z]+", text[j:])
            if unit:
                u = unit.group(0)
                if u not in PERIOD_UNITS and not (len(u) > 1 and u.endswith("s") and u[:-1] in PERIOD_UNITS and len(u[:-1]) > 1):
                    raise QueryError(f"{text[i:j + len(u)]!r} at {where(text, i)} is neither a number nor a period (units: ms, s, m, h, d, w, mo, q, y ...)")
                tokens.append(Token("period", text[i:j + len(u)], i))
                i = j + len(u)
            else:
                tokens.append(Token("number", m.group(0), i))
                i = j
            continue
        m = NAME.match(text, i)
        if m:
            tokens.append(Token("name", m.group(0), i))
            i = m.end()
            continue
        for op in OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise QueryError(f"unexpected character {c!r} at {where(text, i)}")
    tokens.append(Token("end", "", len(text)))
    return tokens


class Parser:
    def __init__(self, text, known_fields, sources):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.known = set(known_fields)
        self.aliases = set()
        self.after_stats = None  # the fields a stats command left, once there is one
        self.query = Query()
        self.allow_sources = sources

    # -- tokens -----------------------------------------------------------------------------------
    @property
    def tok(self):
        return self.tokens[self.i]

    def fail(self, message, token=None):
        token = token or self.tok
        shown = repr(token.text) if token.kind != "end" else "the end of the query"
        raise QueryError(f"{message}: found {shown} at {where(self.text, token.pos)}")

    def is_op(self, *ops):
        return self.tok.kind == "op" and self.tok.text in ops

    def is_word(self, *words):
        return self.tok.kind == "name" and self.tok.text.lower() in words

    def take(self):
        token = self.tok
        self.i += 1
        return token

    def expect_op(self, op):
        if not self.is_op(op):
            self.fail(f"expected {op!r}")
        return self.take()

    # -- fields -----------------------------------------------------------------------------------
    def visible(self):
        return self.after_stats if self.after_stats is not None else self.known | self.aliases

    def read_field(self, token):
        name = token.text
        if self.after_stats is not None and name not in self.after_stats:
            raise QueryError(f"field {name!r} at {where(self.text, token.pos)} is not a result of the stats "
                             f"before it (those are: {', '.join(sorted(self.after_stats)) or 'none'})")
        if name not in self.visible():
            raise QueryError(f"field {name!r} at {where(self.text, token.pos)} is not one the batches log "
                             f"(docs/operations.md, 'Fields the queries may read') nor an alias defined before it")
        if name in self.known:
            self.query.fields_read.add(name)
        return name

    def field_name(self):
        if self.tok.kind == "field" or (self.tok.kind == "name" and self.tok.text.lower() not in KEYWORDS):
            return self.take()
        self.fail("expected a field name")

    def alias(self):
        token = self.field_name()
        self.aliases.add(token.text)
        return token.text

    # -- expressions ------------------------------------------------------------------------------
    def expression(self, ctx):
        left = self.conjunction(ctx)
        while self.is_word("or"):
            self.take()
            left = ("or", left, self.conjunction(ctx))
        return left

    def conjunction(self, ctx):
        left = self.negation(ctx)
        while self.is_word("and"):
            self.take()
            left = ("and", left, self.negation(ctx))
        return left

    def negation(self, ctx):
        if self.is_word("not"):
            self.take()
            return ("not", self.negation(ctx))
        return self.comparison(ctx)

    def comparison(self, ctx):
        left = self.additive(ctx)
        if self.is_op("=", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            return (op, left, self.additive(ctx))
        if self.is_word("like") or self.is_op("=~"):
            self.take()
            if self.tok.kind not in ("string", "regex"):
                self.fail("expected a \"string\" or /regex/ after like or =~")
            return ("like", left, self.take().text)
        negated = self.is_word("not")
        if negated:
            self.take()
            if not self.is_word("in"):
                self.fail("expected 'in' after 'not'")
        if self.is_word("in"):
            self.take()
            self.expect_op("[")
            items = [self.additive(ctx)]
            while self.is_op(","):
                self.take()
                items.append(self.additive(ctx))
            self.expect_op("]")
            return ("not in" if negated else "in", left, items)
        return left

    def additive(self, ctx):
        left = self.multiplicative(ctx)
        while self.is_op("+", "-"):
            op = self.take().text
            left = (op, left, self.multiplicative(ctx))
        return left

    def multiplicative(self, ctx):
        left = self.unary(ctx)
        while self.is_op("*", "/", "%", "^"):
            op = self.take().text
            left = (op, left, self.unary(ctx))
        return left

    def unary(self, ctx):
        if self.is_op("-"):
            self.take()
            return ("neg", self.unary(ctx))
        return self.primary(ctx)

    def primary(self, ctx):
        token = self.tok
        if self.is_op("("):
            self.take()
            inner = self.expression(ctx)
            self.expect_op(")")
            return inner
        if token.kind in ("string", "number"):
            return (token.kind, self.take().text)
        if token.kind == "field":
            return ("field", self.read_field(self.take()))
        if token.kind == "name" and token.text.lower() not in KEYWORDS:
            self.take()
            if self.is_op("("):
                return self.call(token, ctx)
            return ("field", self.read_field(token))
        self.fail("expected a field, a value, a function or '('")

    def call(self, name_token, ctx):
        name = name_token.text
        self.expect_op("(")
        if name in AGGREGATES:
            if ctx == "aggregate":
                raise QueryError(f"{name}() at {where(self.text, name_token.pos)} is an aggregation inside an aggregation")
            if ctx != "stats":
                raise QueryError(f"aggregation {name}() at {where(self.text, name_token.pos)} is allowed only in stats")
            bounds, inner = AGGREGATES[name], "aggregate"
        elif name in SCALARS:
            bounds, inner = SCALARS[name], ctx
        elif name == "bin":
            raise QueryError(f"bin() at {where(self.text, name_token.pos)} groups a stats command: use it after 'by'")
        else:
            raise QueryError(f"unknown function {name}() at {where(self.text, name_token.pos)}")
        args = []
        if name == "count" and self.is_op("*"):
            self.take()
            args.append(("star",))
        elif not self.is_op(")"):
            while True:
                if name in ("datefloor", "dateceil") and len(args) == 1:
                    if self.tok.kind != "period":
                        self.fail(f"{name}() takes a period (e.g. 1h) as its second argument")
                    args.append(("period", self.take().text))
                else:
                    args.append(self.expression(inner))
                if not self.is_op(","):
                    break
                self.take()
        self.expect_op(")")
        low, high = bounds
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise QueryError(f"{name}() at {where(self.text, name_token.pos)} takes {wanted} arguments, not {len(args)}")
        return ("agg" if name in AGGREGATES else "call", name, args)

    # -- commands ---------------------------------------------------------------------------------
    def command(self):
        token = self.tok
        if token.kind != "name" or token.text not in COMMANDS:
            self.fail(f"expected a command ({', '.join(sorted(COMMANDS))})")
        self.take()
        name = token.text
        getattr(self, "cmd_" + name)()
        self.query.commands.append(name)

    def cmd_fields(self):
        while True:
            expression = self.expression("fields")
            if self.is_word("as"):
                self.take()
                self.alias()
            elif expression[0] != "field":
                self.fail("a computed value in fields needs 'as <name>'")
            if not self.is_op(","):
                return
            self.take()

    def cmd_display(self):
        while True:
            self.read_field(self.field_name())
            if not self.is_op(","):
                return
            self.take()

    def cmd_filter(self):
        self.expression("filter")

    def cmd_stats(self):
        aggregates, names = [], set()
        while True:
            start = self.tok
            expression = self.expression("stats")
            if expression[0] != "agg":
                raise QueryError(f"each stats item must be an aggregation (count, sum, avg, ...): {where(self.text, start.pos)}")
            aggregates.append(expression[1])
            if self.is_word("as"):
                self.take()
                names.add(self.alias())
            if not self.is_op(","):
                break
            self.take()
        group_by = []
        if self.is_word("by"):
            self.take()
            while True:
                if self.is_word("bin") and self.tokens[self.i + 1].text == "(":
                    self.take()
                    self.expect_op("(")
                    if self.tok.kind != "period":
                        self.fail("bin() takes a period, e.g. bin(1h)")
                    group_by.append(f"bin({self.take().text})")
                    self.expect_op(")")
                    if self.is_word("as"):
                        self.take()
                        names.add(self.alias())
                else:
                    name = self.read_field(self.field_name())
                    group_by.append(name)
                    names.add(name)
                if not self.is_op(","):
                    break
                self.take()
        self.query.stats.append(Stats(aggregates, group_by))
        self.after_stats = names

    def cmd_sort(self):
        while True:
            self.read_field(self.field_name())
            if self.is_word("asc", "desc"):
                self.take()
            if not self.is_op(","):
                return
            self.take()

    def cmd_limit(self):
        if self.tok.kind != "number" or "." in self.tok.text or not 1 <= int(self.tok.text) <= MAX_LIMIT:
            self.fail(f"limit takes a whole number from 1 to {MAX_LIMIT}")
        self.take()

    def cmd_parse(self):
        self.read_field(self.field_name())
        if self.tok.kind == "string":
            pattern = self.take().text
            if not self.is_word("as"):
                self.fail("a parse glob needs 'as' and one name per *")
            self.take()
            names = [self.alias()]
            while self.is_op(","):
                self.take()
                names.append(self.alias())
            if len(names) != pattern.count("*"):
                raise QueryError(f"parse pattern {pattern!r} has {pattern.count('*')} * but {len(names)} names")
        elif self.tok.kind == "regex":
            groups = re.findall(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", self.take().text)
            if not groups:
                self.fail("a parse regex must name its groups (?<name>...)", self.tokens[self.i - 1])
            self.aliases.update(groups)
        else:
            self.fail("parse takes a \"glob\" or a /regex/")

    def parse(self):
        if self.allow_sources:
            while self.tok.kind == "name" and self.tok.text == "SOURCE":
                self.take()
                if self.tok.kind != "string" or not self.tok.text:
                    self.fail("SOURCE takes a log group name in quotes")
                self.query.sources.append(self.take().text)
                self.expect_op("|")
            if not self.query.sources:
                self.fail("a dashboard query starts with SOURCE '<log group>' |")
        if self.tok.kind == "end":
            self.fail("the query is empty")
        self.command()
        while self.is_op("|"):
            self.take()
            self.command()
        if self.tok.kind != "end":
            self.fail("expected '|' or the end of the query")
        return self.query


def parse(query, fields, sources=False):
    """Parses `query`; `fields` are the names the logs may hold. Raises QueryError."""
    if not isinstance(query, str):
        raise QueryError(f"the query is not a string: {query!r}")
    return Parser(query, fields, sources).parse()
