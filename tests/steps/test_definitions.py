"""GetTags and GetScores."""

import pytest

from syncapp.models import Prospect, ScoreDefinition, SyncStatus, TagDefinition

pytestmark = pytest.mark.django_db


def test_tags_are_created_updated_and_deleted_like_the_backend(world):
    world.cycle()
    assert set(TagDefinition.objects.values_list("backend_id", flat=True)) == {
        "tag_pricing",
        "tag_demo",
        "tag_blog",
    }
    world.sw.tag_list = [
        {"id": "tag_pricing", "name": "Pricing", "description": "renamed"},
        {"id": "tag_demo", "name": "Demo Request", "description": ""},
        {"id": "tag_new", "name": "New", "description": ""},
    ]

    cycle = world.cycle()

    tags = dict(TagDefinition.objects.values_list("backend_id", "name"))
    assert tags == {"tag_pricing": "Pricing", "tag_demo": "Demo Request", "tag_new": "New"}
    assert cycle.step("GetTags")["modified"] == 3
    # A renamed tag reaches the records that hold it in the same cycle.
    assert world.sf.get(world.ids["ada_lead"])["SW_Tags__c"] == "Demo Request;Pricing"
    assert not Prospect.objects.filter(sync_status=SyncStatus.NOT_PROCESSED, lifecycle="Active")


def test_a_score_the_backend_drops_is_deactivated_and_its_mappings_kept(world):
    world.cycle()
    world.sw.score_list = [{"id": "engagement", "name": "Engagement", "description": ""}]

    world.cycle()

    fit = ScoreDefinition.objects.get(backend_id="fit")
    assert not fit.active
    assert fit.mappings.count() == 4


def test_malformed_definitions_are_counted_and_the_rest_kept(world):
    world.sw.tag_list = [{"name": "no id"}, "garbage", {"id": "tag_ok", "name": "OK"}]
    cycle = world.cycle()
    step = cycle.step("GetTags")
    assert step["failed"] == 2
    assert TagDefinition.objects.filter(backend_id="tag_ok").exists()


def test_definitions_the_database_would_refuse_are_skipped_or_cleaned(world):
    # An id longer than the column or holding NUL cannot be stored (PostgreSQL refuses NUL in
    # text): skipped. A NUL in a name or description is dropped from it.
    world.sw.tag_list = [
        {"id": "t" * 81, "name": "Too long"},
        {"id": "tag_\x00", "name": "NUL id"},
        {"id": "tag_ok", "name": "O\x00K", "description": "fine\x00"},
    ]
    cycle = world.cycle()
    step = cycle.step("GetTags")
    assert step["failed"] == 2, step
    assert "Malformed tag definition skipped" in " ".join(step["errors"])
    assert list(TagDefinition.objects.values_list("backend_id", "name", "description")) == [
        ("tag_ok", "OK", "fine")
    ]
