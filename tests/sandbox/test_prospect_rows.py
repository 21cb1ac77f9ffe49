"""The SalesWings stand-in's prospect pages read rows as stored (SQLite) exactly as the ORM
reads them: the same JSON, field by field."""

import datetime as dt

import pytest

from sandbox.models import SwProspect
from sandbox.sw_views import PROSPECT_FIELDS, prospect_json, prospect_rows
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_page_reads_as_the_orm_reads_it():
    utc = dt.UTC
    factories.SwProspectFactory(
        id="p1", seq=11, email="a@example.org", lifecycle="active", temperature="hot",
        last_visit=dt.datetime(2026, 10, 17, 22, 33, 10, 123456, tzinfo=utc), favorite=True,
        assignee="u@example.org", tags=["tag_a", "tag_b"], scores={"engagement": 9, "fit": 1.5},
        updated_at=dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )  # fmt: skip
    factories.SwProspectFactory(
        id="p2", seq=12, email="b@example.org", lifecycle="merged", merged_into="p1",
        last_visit=None, favorite=False, tags=[], scores={},
        updated_at=dt.datetime(2026, 11, 2, 23, 59, 59, tzinfo=utc),
    )  # fmt: skip
    factories.SwProspectFactory(id="p0", seq=3, email="c@ex.org", updated_at=dt.datetime.now(utc))

    orm = SwProspect.objects.filter(seq__gt=3).order_by("seq")
    expected = [prospect_json(p) for p in orm.values_list(*PROSPECT_FIELDS, named=True)]
    assert [prospect_json(p) for p in prospect_rows(3, 10)] == expected
    assert expected[0]["lastVisit"] == "2026-10-17T22:33:10+00:00"
    assert expected[0]["updatedAt"] == "2026-11-01T06:00:00+00:00"
    assert expected[0]["favorite"] is True and expected[1]["favorite"] is False
    assert expected[1]["lastVisit"] is None and expected[1]["mergedInto"] == "p1"
    assert [p.seq for p in prospect_rows(0, 2)] == [3, 11]
