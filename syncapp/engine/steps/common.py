"""What the data steps share: the SalesWings fields, value comparison, streaming helpers.

The many-rows SQL they use is `syncapp.bulk`."""

import datetime as dt
import math
from itertools import islice

from syncapp.engine.steps import Step
from syncapp.models import FieldMapping, TagDefinition

PROSPECT_ID = "SW_Prospect_Id__c"
TAGS = "SW_Tags__c"
TEMPERATURE = "SW_Temperature__c"
LAST_VISIT = "SW_Last_Visit__c"
FAVORITE = "SW_Favorite__c"
PERSON_FIELDS = [PROSPECT_ID, TAGS, TEMPERATURE, LAST_VISIT, FAVORITE]


class PersonStep(Step):
    """A step over one side, Leads or Contacts: `obj` the object, `side` "lead" or "contact"
    (the prospects' columns of that side), `condition` what the object's SOQL WHERE starts
    with. The two sides' steps run side by side in the group `persons`, each side a lane of
    its own (its steps one after the other: steps/matching/ and steps/cleaning.py say why
    the sides may overlap)."""

    parallel_group = "persons"
    obj = ""
    side = ""
    condition = ""

    @property
    def lane(self):
        return self.side


HOTNESS = {"Hot": 3, "Warm": 2, "Cold": 1}


def chunked(iterable, size):
    it = iter(iterable)
    while chunk := list(islice(it, size)):
        yield chunk


def keyset(queryset, size):
    """Stream a queryset in pages of `size` by primary key: bounded memory, and rows the
    caller changes while streaming (e.g. marks Processed) neither repeat nor shift pages."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not page:
            return
        yield page
        last = page[-1].pk


def parse_datetime(value):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def sf_datetime(value):
    """A datetime as Salesforce takes it (UTC, ISO 8601 with offset)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def soql_datetime(value):
    """A SOQL date-time literal (UTC, whole seconds, `Z`) for a stamp Salesforce answered.

    Rounded down to the second: with `>=` that reads a little more again, never less.
    """
    return parse_datetime(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same(current, desired):
    """Whether a Salesforce field already holds the value we would write.

    Salesforce answers numbers as floats, datetimes with milliseconds and `+0000`, empty text
    as null: compare meanings, not spellings, or a second cycle would rewrite everything.
    """
    if current is None:  # an empty field (every record's first write): what the rules give
        return desired is None or desired == "" or desired is False
    if desired is None or desired == "":
        return current is None or current == "" or current is False
    if isinstance(desired, bool):
        return bool(current) == desired
    if isinstance(desired, int | float):
        if current in (None, "") or isinstance(current, bool):
            return False
        try:
            return math.isclose(float(current), float(desired))
        except (TypeError, ValueError):
            return False
    if isinstance(desired, str) and isinstance(current, str) and "T" in desired:
        try:
            return parse_datetime(current) == parse_datetime(desired)
        except ValueError:
            pass
    return current == desired


def changes(record, desired):
    """The fields of `desired` whose value differs from the queried `record`."""
    get = record.get
    return {
        k: v
        for k, v in desired.items()
        # The same value of the same type is the same (the usual case of a later cycle);
        # anything else is compared by meaning.
        if not ((current := get(k)) == v and type(current) is type(v)) and not same(current, v)
    }


def join_tags(names):
    names = sorted(set(n for n in names if n))
    return ";".join(names) or None


def split_tags(value):
    return {t for t in (value or "").split(";") if t}


def tag_names():
    return dict(TagDefinition.objects.filter(active=True).values_list("backend_id", "name"))


def prospect_values(prospect, tags_by_id, score_fields):
    """What a matched Lead/Contact holds for this prospect."""
    return person_values(
        prospect.backend_id,
        join_tags(tags_by_id.get(t) for t in prospect.tags),
        prospect.temperature,
        sf_datetime(prospect.last_visit),
        prospect.favorite,
        prospect.scores,
        score_fields,
    )


def person_values(backend_id, tags_text, temperature, last_visit_text, favorite, scores, fields):
    """`prospect_values` from values already in Salesforce's form (tags joined, the last
    visit as text); `fields` maps score id to field."""
    values = {
        PROSPECT_ID: backend_id,
        TAGS: tags_text,
        TEMPERATURE: temperature or None,
        LAST_VISIT: last_visit_text,
        FAVORITE: bool(favorite),
    }
    for score_id, field in fields.items():
        values[field] = scores.get(score_id)
    return values


def cleared_values(score_fields):
    values = dict.fromkeys(PERSON_FIELDS)
    values[FAVORITE] = False
    for field in score_fields.values():
        values[field] = None
    return values


def person_score_fields(obj):
    return FieldMapping.fields_for(obj)


def describe_failure(result):
    codes = ", ".join(getattr(result, "codes", []) or [])
    errors = "; ".join(getattr(result, "errors", []) or []) or "rejected"
    return f"{codes}: {errors}" if codes else errors


def write(sf, batch, obj, updates, *, label=None):
    """Update records (each with Id) that really change; count and report per record.

    Returns {record id: None on success, or the failure message}.
    """
    if not updates:
        return {}
    return account(batch, obj, updates, sf.update(obj, updates), label=label)


def account(batch, obj, updates, results, *, label=None):
    """Count and report the per-record results of an update of `updates` (see `write`)."""
    outcome = {}
    for record, result in zip(updates, results, strict=True):
        if result.success:
            batch.modified += 1
            outcome[record["Id"]] = None
        else:
            message = f"{label or obj} {record['Id']}: {describe_failure(result)}"
            batch.record_failure(message)
            outcome[record["Id"]] = message
    return outcome


def soql_fields(fields):
    return ", ".join(dict.fromkeys(fields))
