"""A SOQL subset: parsed into a small tree, compiled onto the Django ORM.

Supported (docs/sandbox.md): `SELECT f1, f2 | COUNT() FROM Object [WHERE cond]
[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]`; conditions with
`= != <> < <= > >=`, `[NOT] IN (...)`, `LIKE`, `AND`/`OR`/`NOT`, parentheses, `null`,
`true`/`false`, numbers, 'strings', date-time and date literals and the date literals
TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n. String comparisons are
case-insensitive, as in Salesforce. Relationship fields (`Account.Name`) are not supported.
"""

import datetime as dt
import re

from django.db.models import CharField, F, Lookup, Q, TextField
from django.utils import timezone

from .errors import SfApiError, malformed
from .schema import get_sobject, sobject_for_id


@CharField.register_lookup
@TextField.register_lookup
class SoqlLike(Lookup):
    """Case-insensitive SQL LIKE with a backslash escape (SOQL's LIKE)."""

    lookup_name = "soqllike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"UPPER({lhs}) LIKE UPPER({rhs}) ESCAPE '\\'", lhs_params + rhs_params


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<num>[-+]?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
    "nulls", "first", "last", "limit", "offset", "null", "true", "false", "count", "includes",
    "excludes", "group", "having", "with", "for",
}  # fmt: skip
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
_DATE_LITERALS = {"today", "yesterday", "tomorrow", "last_n_days", "next_n_days"}


class Tok:
    __slots__ = ("kind", "text", "value", "pos")

    def __init__(self, kind, text, value, pos):
        self.kind, self.text, self.value, self.pos = kind, text, value, pos

    def kw(self, *words):
        return self.kind == "ident" and self.text.lower() in words


def _unescape(body):
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "%_":  # only meaningful inside LIKE: kept escaped
                out.append("\\" + nxt)
            elif nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                raise malformed(f"Invalid string literal: invalid escape sequence \\{nxt}")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _parse_datetime(text):
    t = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", t):
        t = t[:-2] + ":" + t[-2:]
    return dt.datetime.fromisoformat(t)


def tokenize(soql):
    toks, pos = [], 0
    while pos < len(soql):
        m = _TOKEN.match(soql, pos)
        if not m:
            raise _error_at(soql, pos, f"unexpected token: '{soql[pos]}'")
        kind = m.lastgroup
        text = m.group()
        if kind != "ws":
            value = text
            try:
                if kind == "str":
                    value = _unescape(text[1:-1])
                elif kind == "num":
                    value = float(text) if "." in text else int(text)
                elif kind == "datetime":
                    value = _parse_datetime(text)
                elif kind == "date":
                    value = dt.date.fromisoformat(text)
            except ValueError:
                raise _error_at(soql, pos, f"invalid literal: '{text}'") from None
            toks.append(Tok(kind, text, value, pos))
        pos = m.end()
    toks.append(Tok("eof", "", None, len(soql)))
    return toks


def _error_at(soql, pos, message):
    return malformed(f"\n{soql}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{message}")


# Salesforce's SOQL statement limit (Salesforce Developer Limits, "SOQL and SOSL Limits":
# "Maximum length of SOQL statements: 100,000 characters").
MAX_STATEMENT = 100_000


class Query:
    def __init__(self):
        self.sobject = None
        self.fields = []  # FieldDef list
        self.count = False
        self.where = None
        self.order = []  # (FieldDef, desc, nulls_first)
        self.limit = None
        self.offset = 0


class Parser:
    def __init__(self, soql):
        self.soql = soql
        self.toks = tokenize(soql)
        self.i = 0

    # -- helpers
    @property
    def tok(self):
        return self.toks[self.i]

    def advance(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, tok=None, message=None):
        tok = tok or self.tok
        text = tok.text or "<EOF>"
        return _error_at(self.soql, tok.pos, message or f"unexpected token: '{text}'")

    def expect_kw(self, *words):
        if not self.tok.kw(*words):
            raise self.fail()
        return self.advance()

    def expect_punct(self, ch):
        if not (self.tok.kind == "punct" and self.tok.text == ch):
            raise self.fail()
        return self.advance()

    def at_punct(self, ch):
        return self.tok.kind == "punct" and self.tok.text == ch

    # -- grammar
    def parse(self):
        q = Query()
        self.expect_kw("select")
        select = []
        if self.tok.kw("count") and self.toks[self.i + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            if not self.at_punct(")"):
                raise self.fail(message="only COUNT() is supported by the sandbox")
            self.expect_punct(")")
            q.count = True
        else:
            while True:
                t = self.tok
                if t.kind != "ident" or t.text.lower() in ("from",):
                    raise self.fail()
                select.append(self.advance())
                if self.at_punct(","):
                    self.advance()
                    continue
                break
        self.expect_kw("from")
        obj_tok = self.tok
        if obj_tok.kind != "ident":
            raise self.fail()
        self.advance()
        q.sobject = get_sobject(obj_tok.text)
        if q.sobject is None:
            raise SfApiError(
                400,
                "INVALID_TYPE",
                _error_at(self.soql, obj_tok.pos, "").message.rstrip("\n")
                + f"\nsObject type '{obj_tok.text}' is not supported. If you are attempting to "
                "use a custom object, be sure to append the '__c' after the entity name.",
            )
        seen = set()
        for t in select:
            f = self.resolve(q, t)
            if f.api in seen:
                raise malformed(f"duplicate field selected: {f.api}")
            seen.add(f.api)
            q.fields.append(f)
        if self.tok.kw("where"):
            self.advance()
            q.where = self.parse_or(q)
        if self.tok.kw("group"):
            self.advance()
            self.expect_kw("by")
            while True:
                t = self.tok
                f = self.resolve(q, self.advance())
                if not f.groupable:
                    raise self.field_error(t, f"field '{f.api}' can not be grouped in a query call")
                if not self.at_punct(","):
                    break
                self.advance()
            raise self.fail(t, "GROUP BY is not supported by the sandbox")
        if self.tok.kw("order"):
            self.advance()
            self.expect_kw("by")
            while True:
                t = self.tok
                f = self.resolve(q, self.advance())
                if not f.sortable:
                    raise self.field_error(t, f"field '{f.api}' can not be sorted in a query call")
                desc = False
                if self.tok.kw("asc", "desc"):
                    desc = self.advance().text.lower() == "desc"
                nulls_first = not desc
                if self.tok.kw("nulls"):
                    self.advance()
                    nulls_first = self.expect_kw("first", "last").text.lower() == "first"
                q.order.append((f, desc, nulls_first))
                if self.at_punct(","):
                    self.advance()
                    continue
                break
        if self.tok.kw("limit"):
            self.advance()
            q.limit = self.expect_int()
        if self.tok.kw("offset"):
            self.advance()
            q.offset = self.expect_int()
            if q.offset > 2000:
                raise SfApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset is 2000")
        if self.tok.kind != "eof":
            raise self.fail()
        return q

    def expect_int(self):
        t = self.tok
        if t.kind != "num" or not isinstance(t.value, int) or t.value < 0:
            raise self.fail()
        self.advance()
        return t.value

    def field_error(self, tok, message):
        """INVALID_FIELD at a field's position (a field this clause cannot use)."""
        where = _error_at(self.soql, tok.pos, "").message.rstrip("\n")
        return SfApiError(400, "INVALID_FIELD", f"{where}\n{message}")

    def resolve(self, q, t):
        if t.kind != "ident" or t.text.lower() in _KEYWORDS:
            raise self.fail(t)
        f = q.sobject.field(t.text)
        if f is None:
            rel = " Relationship fields are not supported by the sandbox." if "." in t.text else ""
            raise SfApiError(
                400,
                "INVALID_FIELD",
                _error_at(self.soql, t.pos, "").message.rstrip("\n")
                + f"\nNo such column '{t.text}' on entity '{q.sobject.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after the custom "
                "field name." + rel,
            )
        return f

    # SOQL needs parentheses where AND and OR meet at one level: "a AND b OR c" is
    # MALFORMED_QUERY, an unexpected token at the second kind of connective.
    def parse_or(self, q):
        first, chained = self.parse_and(q)
        parts = [first]
        if chained and self.tok.kw("or"):
            raise self.fail()
        while self.tok.kw("or"):
            self.advance()
            parts.append(self.parse_and(q, after_or=True)[0])
        return parts[0] if len(parts) == 1 else ("or", parts)

    def parse_and(self, q, after_or=False):
        """(node, whether it is an unparenthesized AND chain)."""
        parts = [self.parse_not(q)]
        while self.tok.kw("and"):
            if after_or:
                raise self.fail()
            self.advance()
            parts.append(self.parse_not(q))
        return (parts[0], False) if len(parts) == 1 else (("and", parts), True)

    def parse_not(self, q):
        if self.tok.kw("not"):
            self.advance()
            return ("not", self.parse_not(q))
        if self.at_punct("("):
            self.advance()
            node = self.parse_or(q)
            self.expect_punct(")")
            return node
        return self.parse_condition(q)

    def parse_condition(self, q):
        ftok = self.tok
        f = self.resolve(q, self.advance())
        if not f.filterable:
            raise self.field_error(ftok, f"field '{f.api}' can not be filtered in a query call")
        t = self.tok
        if t.kind == "op":
            self.advance()
            op = "!=" if t.text == "<>" else t.text
            return ("cmp", f, op, self.parse_value())
        if t.kw("like"):
            self.advance()
            v = self.parse_value()
            if v[0] != "str":
                raise self.fail(message="LIKE needs a string")
            return ("like", f, v[1])
        negate = False
        if t.kw("not"):
            self.advance()
            negate = True
        if self.tok.kw("in"):
            self.advance()
            self.expect_punct("(")
            values = [self.parse_value()]
            while self.at_punct(","):
                self.advance()
                values.append(self.parse_value())
            self.expect_punct(")")
            return ("in", f, values, negate)
        raise self.fail()

    def parse_value(self):
        t = self.advance()
        if t.kind == "str":
            return ("str", t.value)
        if t.kind == "num":
            return ("num", t.value)
        if t.kind == "datetime":
            return ("datetime", t.value)
        if t.kind == "date":
            return ("date", t.value)
        if t.kind == "ident":
            word = t.text.lower()
            if word == "null":
                return ("null", None)
            if word in ("true", "false"):
                return ("bool", word == "true")
            name, _, n = word.partition(":")
            if name in _DATE_LITERALS and (bool(n) == name.endswith("_n_days")):
                return ("dlit", _date_range(name, int(n or 0)))
        raise self.fail(t)


def _date_range(name, n):
    """A date literal as a half-open range of aware datetimes [start, end)."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = dt.timedelta(days=1)
    if name == "today":
        return today, today + day
    if name == "yesterday":
        return today - day, today
    if name == "tomorrow":
        return today + day, today + 2 * day
    if name == "last_n_days":
        return today - n * day, today + day
    return today, today + (n + 1) * day  # next_n_days


# --- compile -------------------------------------------------------------------------------


def _type_error(f, expected):
    return SfApiError(
        400,
        "INVALID_FIELD",
        f"value of filter criterion for field '{f.api}' must be of type {expected} and should "
        "not be enclosed in quotes",
    )


def _plain(value):
    return value.replace("\\%", "%").replace("\\_", "_")


def _coerce(sobj, f, value):
    """A literal as the stored value of field f (None for null)."""
    kind, v = value
    if kind == "null":
        return None
    t = f.type
    if t == "id":
        if kind != "str":
            raise _type_error(f, "id")
        pk = sobj.parse_id(_plain(v))
        if pk is None:
            # A well-formed Id of another object (a queue's among Lead owners looked up as
            # Users) matches no record, as in Salesforce; only a malformed one is refused.
            other = sobject_for_id(_plain(v))
            if other is not None and other.parse_id(_plain(v)) is not None:
                return -1  # no record's key
            raise SfApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {v}")
        return pk
    if t == "boolean":
        if kind != "bool":
            raise _type_error(f, "boolean")
        return v
    if t == "double":
        if kind != "num":
            raise _type_error(f, "double")
        return float(v)
    if t == "datetime":
        if kind == "datetime":
            return v
        if kind == "dlit":
            return v
        raise _type_error(f, "dateTime")
    if t == "date":
        if kind == "date":
            return v
        if kind == "dlit":
            return (v[0].date(), v[1].date())
        raise _type_error(f, "date")
    if kind != "str":
        raise _type_error(f, "string")
    return _plain(v)


def _lower_attr(sobj, f):
    """The indexed lower-case copy of a field, when the model has one."""
    name = f.attr + "_lower"
    try:
        sobj.model._meta.get_field(name)
    except Exception:
        return None
    return name


def _case_insensitive(f):
    return f.type in ("string", "email", "textarea", "picklist") and not f.external_id


def compile_where(sobj, node):
    kind = node[0]
    if kind == "and":
        q = Q()
        for part in node[1]:
            q &= compile_where(sobj, part)
        return q
    if kind == "or":
        q = Q()
        for part in node[1]:
            q |= compile_where(sobj, part)
        return q
    if kind == "not":
        return ~compile_where(sobj, node[1])
    if kind == "like":
        _, f, pattern = node
        if f.type not in ("string", "email", "textarea", "picklist", "reference"):
            raise SfApiError(
                400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field {f.api}: LIKE"
            )
        return Q(**{f"{f.attr}__soqllike": pattern})
    if kind == "in":
        _, f, values, negate = node
        coerced = [_coerce(sobj, f, v) for v in values]
        non_null = [v for v in coerced if v is not None]
        lower = _lower_attr(sobj, f)
        if lower:
            q = Q(**{f"{lower}__in": [v.lower() for v in non_null]})
        elif _case_insensitive(f) and non_null:
            q = Q()
            for v in non_null:
                q |= Q(**{f"{f.attr}__iexact": v})
        else:
            q = Q(**{f"{f.attr}__in": non_null})
        if len(non_null) < len(coerced):
            q |= Q(**{f"{f.attr}__isnull": True})
        return ~q if negate else q
    # cmp
    _, f, op, value = node
    v = _coerce(sobj, f, value)
    if v is None:
        if op == "=":
            return Q(**{f"{f.attr}__isnull": True})
        if op == "!=":
            return Q(**{f"{f.attr}__isnull": False})
        raise SfApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator {op} with null")
    if isinstance(v, tuple):  # a date range literal
        start, end = v
        return {
            "=": Q(**{f"{f.attr}__gte": start, f"{f.attr}__lt": end}),
            "!=": Q(**{f"{f.attr}__lt": start}) | Q(**{f"{f.attr}__gte": end}),
            "<": Q(**{f"{f.attr}__lt": start}),
            "<=": Q(**{f"{f.attr}__lt": end}),
            ">": Q(**{f"{f.attr}__gte": end}),
            ">=": Q(**{f"{f.attr}__gte": start}),
        }[op]
    if op in ("=", "!="):
        lower = _lower_attr(sobj, f)
        if lower:
            q = Q(**{lower: v.lower()})
        elif _case_insensitive(f):
            q = Q(**{f"{f.attr}__iexact": v})
        else:
            q = Q(**{f.attr: v})
        if op == "!=":
            # Salesforce's != also matches nulls.
            return ~q | Q(**{f"{f.attr}__isnull": True})
        return q
    lookup = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op]
    return Q(**{f"{f.attr}__{lookup}": v})


def compile_order(q):
    out = []
    for f, desc, nulls_first in q.order:
        expr = F(f.attr)
        out.append(
            expr.desc(nulls_first=nulls_first or None, nulls_last=(not nulls_first) or None)
            if desc
            else expr.asc(nulls_first=nulls_first or None, nulls_last=(not nulls_first) or None)
        )
    out.append(F("pk").asc())
    return out


def parse(soql):
    if not isinstance(soql, str) or not soql.strip():
        raise malformed("A query string (q) is required")
    if len(soql) > MAX_STATEMENT:
        # Salesforce's wording, as an org answered when the limit was 20,000 (quoted in
        # Illuminated Cloud's issue 466); the SOQL reference names the code, MALFORMED_QUERY.
        raise malformed(f"SOQL statements can not be longer than {MAX_STATEMENT} characters")
    return Parser(soql).parse()
