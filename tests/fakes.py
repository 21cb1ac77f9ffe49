"""In-memory stand-ins for the two network clients, with exactly their interface.

`FakeSalesforce` keeps the org's records in dicts and answers SOQL through the sandbox's parser
(sandbox/soql.py), evaluating its parse tree on those dicts (no LIKE or date literals: no step
uses them); text compares case-insensitively as in Salesforce. It counts API calls like the
real client (a query page of 2,000 rows, a collection call of 200 records) and can inject
validation rules, transient failures and an exhausted daily limit. `FakeSalesWings` serves the
backend's contract from lists. tests/integration runs the steps against the real clients and
the sandbox over HTTP; these fakes keep the unit tests fast and exact.
"""

import datetime as dt
import itertools
import math
import operator
import re

from django.utils import timezone

from sandbox.errors import SfApiError
from sandbox.soql import parse as parse_soql
from syncapp.salesforce import LimitExhausted, RecordResult
from syncapp.salesforce.errors import PermanentError, TransientError
from syncapp.saleswings import Page

SW = [
    "SW_Prospect_Id__c",
    "SW_Tags__c",
    "SW_Temperature__c",
    "SW_Last_Visit__c",
    "SW_Favorite__c",
    "SW_Engagement_Score__c",
    "SW_Fit_Score__c",
]
SYSTEM = ["Id", "CreatedDate", "SystemModstamp"]
OBJECTS = {
    "Lead": ["FirstName", "LastName", "Email", "Company", "IsConverted", "OwnerId", *SW],
    "Contact": ["FirstName", "LastName", "Email", "AccountId", "OwnerId", *SW],
    "Account": [
        "Name",
        "SW_Tags__c",
        "SW_Temperature__c",
        "SW_Engagement_Score__c",
        "SW_Fit_Score__c",
    ],
    "Opportunity": [
        "Name",
        "AccountId",
        "StageName",
        "CloseDate",
        "SW_Tags__c",
        "SW_Engagement_Score__c",
        "SW_Fit_Score__c",
    ],
    "SW_Activity__c": [
        "Name",
        "SW_Activity_Id__c",
        "SW_Prospect_Id__c",
        "Lead__c",
        "Contact__c",
        "Type__c",
        "Occurred_At__c",
        "URL__c",
        "Title__c",
    ],
    "User": ["Email", "Name", "IsActive"],
}
PREFIX = {
    "Lead": "00Q",
    "Contact": "003",
    "Account": "001",
    "Opportunity": "006",
    "SW_Activity__c": "a0S",
    "User": "005",
}
DEFAULTS = {"IsConverted": False, "SW_Favorite__c": False, "IsActive": True}
PAGE = 2000
COLLECTION = 200
IN_CHUNK = 300


def _norm(value):
    if isinstance(value, str):
        if re.match(r"^\d{4}-\d{2}-\d{2}T", value):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _parse(soql):
    """The sandbox's parse tree of a statement (sandbox/soql.py): the fake evaluates that tree
    on its dicts, where the sandbox compiles it onto the ORM."""
    try:
        return parse_soql(soql)
    except SfApiError as exc:
        raise PermanentError(f"{exc.code}: {exc.message}", code=exc.code, status=400) from None


def _literal(literal):
    kind, value = literal
    if kind == "dlit":
        raise NotImplementedError("the fake does not evaluate date literals")
    if kind == "str":  # the parser keeps LIKE's escapes, which mean nothing elsewhere
        return value.replace("\\%", "%").replace("\\_", "_")
    return value


_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _matches(record, node):
    kind = node[0]
    if kind == "and":
        return all(_matches(record, n) for n in node[1])
    if kind == "or":
        return any(_matches(record, n) for n in node[1])
    if kind == "not":
        return not _matches(record, node[1])
    if kind == "in":
        _, field, values, negate = node
        found = _norm(record.get(field.api)) in {_norm(_literal(v)) for v in values}
        return found != negate
    if kind != "cmp":
        raise NotImplementedError(f"the fake does not evaluate {kind.upper()}")
    _, field, op, literal = node
    have, want = record.get(field.api), _literal(literal)
    if want is None:
        empty = have is None or have == ""
        return empty if op == "=" else not empty
    if have is None:
        return op == "!="  # Salesforce's != also matches nulls
    a, b = _norm(have), _norm(want)
    if isinstance(b, dt.datetime) and isinstance(a, str):
        return False
    return _COMPARE[op](a, b)


def _fields_of(node):
    if node is None:
        return []
    if node[0] in ("and", "or"):
        return [f for n in node[1] for f in _fields_of(n)]
    if node[0] == "not":
        return _fields_of(node[1])
    return [node[1]]


def _quote(value):
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class FakeSalesforce:
    def __init__(self):
        self.db = {obj: {} for obj in OBJECTS}
        self.calls = 0
        self.counter = itertools.count(1)
        self.last_stamp = None
        self.rules = []  # callables (obj, record) -> error message or None
        self.limit_left = None  # calls left before the daily limit is used up
        self.transient = 0  # the next N calls fail with a transient error (after retries)
        self.writes = []  # (obj, id, fields) of every successful write
        self.statements = []  # every SOQL statement run

    # --- world building (no API calls) ---
    def add(self, obj, **fields):
        unknown = set(fields) - set(OBJECTS[obj])
        assert not unknown, f"{obj} has no field(s) {unknown}"
        rid = f"{PREFIX[obj]}{next(self.counter):012d}AAA"
        record = dict.fromkeys(OBJECTS[obj]) | DEFAULTS | fields
        record = {k: v for k, v in record.items() if k in OBJECTS[obj]}
        stamp = self._stamp()
        record.update(Id=rid, CreatedDate=stamp, SystemModstamp=stamp)
        self.db[obj][rid] = record
        return rid

    def get(self, rid):
        for records in self.db.values():
            if rid in records:
                return records[rid]
        raise KeyError(rid)

    def snapshot(self):
        return {obj: {i: dict(r) for i, r in recs.items()} for obj, recs in self.db.items()}

    def edit(self, rid, **fields):
        """A change made by a person in Salesforce (bumps SystemModstamp)."""
        record = self.get(rid)
        record.update(fields)
        record["SystemModstamp"] = self._stamp()

    def _stamp(self):
        now = timezone.now()
        if self.last_stamp and now <= self.last_stamp:
            now = self.last_stamp + dt.timedelta(milliseconds=1)
        self.last_stamp = now
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"

    # --- the client's interface ---
    def _call(self):
        if self.limit_left is not None:
            if self.limit_left <= 0:
                raise LimitExhausted(
                    "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded (daily API limit)"
                )
            self.limit_left -= 1
        if self.transient > 0:
            self.transient -= 1
            raise TransientError("UNABLE_TO_LOCK_ROW: still locked after 4 tries")
        self.calls += 1

    def _select(self, soql):
        self.statements.append(soql)
        q = _parse(soql)
        obj = q.sobject.name
        fields = set(OBJECTS[obj]) | set(SYSTEM)
        for f in [*q.fields, *_fields_of(q.where), *(f for f, _, _ in q.order)]:
            if f.api not in fields:
                raise PermanentError(
                    f"INVALID_FIELD: No such column '{f.api}' on entity '{obj}'",
                    code="INVALID_FIELD",
                    status=400,
                )
        rows = sorted(self.db[obj].values(), key=lambda r: r["Id"])
        if q.where is not None:
            rows = [r for r in rows if _matches(r, q.where)]
        for f, desc, nulls_first in reversed(q.order):  # stable sorts: last key first
            present = [r for r in rows if r.get(f.api) is not None]
            present.sort(key=lambda r, api=f.api: _norm(r[api]), reverse=desc)
            missing = [r for r in rows if r.get(f.api) is None]
            rows = missing + present if nulls_first else present + missing
        end = None if q.limit is None else q.offset + q.limit
        return [{f.api: r.get(f.api) for f in q.fields} for r in rows[q.offset : end]]

    def query(self, soql, *, read_ahead=False):
        rows = self._select(soql)
        self._call()
        for start in range(0, max(len(rows), 1), PAGE):
            if start:
                self._call()
            yield from rows[start : start + PAGE]

    def query_in(self, template, values):
        values = list(values)
        for start in range(0, len(values), IN_CHUNK):
            chunk = values[start : start + IN_CHUNK]
            yield from self.query(template.format(values=", ".join(_quote(v) for v in chunk)))

    def in_statements(self, template, values):
        return math.ceil(len(set(values)) / IN_CHUNK)

    def count(self, soql):
        self._call()
        return len(self._select(soql))

    def _collection(self, n):
        for _ in range(math.ceil(n / COLLECTION)):
            self._call()

    def _apply(self, obj, record_id, fields):
        current = self.db[obj].get(record_id)
        if current is None:
            return RecordResult(record_id, False, ["entity is deleted"], ["ENTITY_IS_DELETED"])
        unknown = set(fields) - set(OBJECTS[obj]) - {"Id"}
        if unknown:
            return RecordResult(
                record_id, False, [f"No such column {sorted(unknown)}"], ["INVALID_FIELD"]
            )
        after = current | {k: v for k, v in fields.items() if k != "Id"}
        for rule in self.rules:
            message = rule(obj, after)
            if message:
                return RecordResult(
                    record_id, False, [message], ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
                )
        after["SystemModstamp"] = self._stamp()
        self.db[obj][record_id] = after
        self.writes.append((obj, record_id, {k: v for k, v in fields.items() if k != "Id"}))
        return RecordResult(record_id, True, [], [])

    def update(self, obj, records):
        self._collection(len(records))
        return [self._apply(obj, r["Id"], r) for r in records]

    def create(self, obj, records):
        self._collection(len(records))
        out = []
        for r in records:
            rid = self.add(obj, **r)
            self.writes.append((obj, rid, dict(r)))
            out.append(RecordResult(rid, True, [], []))
        return out

    def upsert(self, obj, ext_field, records):
        self._collection(len(records))
        by_key = {r[ext_field]: i for i, r in self.db[obj].items() if r.get(ext_field)}
        out = []
        for r in records:
            rid = by_key.get(r[ext_field])
            if rid is None:
                rid = self.add(obj, **r)
                self.writes.append((obj, rid, dict(r)))
                out.append(RecordResult(rid, True, [], []))
            else:
                out.append(self._apply(obj, rid, r))
        return out

    def delete(self, ids):
        self._collection(len(ids))
        out = []
        for rid in ids:
            for records in self.db.values():
                if rid in records:
                    del records[rid]
                    self.writes.append(("delete", rid, {}))
                    out.append(RecordResult(rid, True, [], []))
                    break
            else:
                out.append(RecordResult(rid, False, ["entity is deleted"], ["ENTITY_IS_DELETED"]))
        return out

    def describe(self, obj):
        self._call()
        if obj not in OBJECTS:
            raise ValueError(f"NOT_FOUND: {obj}")
        return {
            "name": obj,
            "fields": [
                {"name": f, "type": "double" if f.endswith("Score__c") else "string"}
                for f in SYSTEM + OBJECTS[obj]
            ],
        }

    def fields(self, obj):
        return {f["name"]: f for f in self.describe(obj)["fields"]}


class FakeSalesWings:
    def __init__(self):
        self.tag_list = []
        self.score_list = []
        self.prospect_rows = []  # (seq, item)
        self.activity_rows = []
        self.seq = itertools.count(1)
        self.metrics, self.logs, self.changes = [], [], []
        self.fail_sends = False

    def put_prospect(self, **fields):
        seq = next(self.seq)
        item = {
            "email": None,
            "firstName": None,
            "lastName": None,
            "lifecycle": "Active",
            "mergedInto": None,
            "temperature": None,
            "lastVisit": None,
            "favorite": False,
            "assignee": None,
            "tags": [],
            "scores": {},
            "updatedAt": timezone.now().isoformat(),
        } | fields
        item["seq"] = seq
        self.prospect_rows = [
            (s, i)
            for s, i in self.prospect_rows
            if not (isinstance(i, dict) and i.get("id") == item["id"])
        ]
        self.prospect_rows.append((seq, item))
        return item

    def put_raw(self, item):
        self.prospect_rows.append((next(self.seq), item))

    def put_activity(self, **fields):
        seq = next(self.seq)
        item = {"details": {}, "url": None, "title": None} | fields | {"seq": seq}
        self.activity_rows.append((seq, item))
        return item

    def prospect(self, pid):
        return next(i for _, i in self.prospect_rows if isinstance(i, dict) and i["id"] == pid)

    def tags(self):
        return list(self.tag_list)

    def scores(self):
        return list(self.score_list)

    @staticmethod
    def _page(rows, since, limit):
        picked = [(s, i) for s, i in sorted(rows, key=lambda r: r[0]) if s > since][:limit]
        more = len([1 for s, _ in rows if s > since]) > len(picked)
        return Page([i for _, i in picked], picked[-1][0] if picked else since, more)

    def prospects(self, since, limit):
        return self._page(self.prospect_rows, since, limit)

    def activities(self, since, limit):
        return self._page(self.activity_rows, since, limit)

    def _send(self, target, payload):
        if self.fail_sends:
            raise ConnectionError("backend unavailable (503)")
        target.append(payload)

    def send_metrics(self, metrics):
        self._send(self.metrics, metrics)

    def send_logs(self, entries):
        self._send(self.logs, entries)
        return len(entries)

    def send_changes(self, records):
        self._send(self.changes, records)
        return len(records)
