"""AggregateTags / AggregateScores / AggregateTemperature and the Opportunity copies."""

import pytest

from syncapp.models import StudioOptions
from syncapp.models.statuses import CycleStatus
from tests.steps.expect import ACCOUNT_FIELDS, OPP_FIELDS, expected_accounts, held

pytestmark = pytest.mark.django_db


@pytest.fixture
def aggregation(world):
    options = StudioOptions.load()
    options.account_aggregation = True
    options.opportunity_tags = True
    options.opportunity_scores = True
    options.save()
    return world


def test_account_and_opportunity_aggregates_equal_a_straightforward_computation(aggregation):
    world = aggregation
    cycle = world.cycle()

    assert cycle.status == CycleStatus.COMPLETED, cycle.steps
    sf = world.sf
    expected = expected_accounts(sf)
    for aid, values in expected.items():
        assert held(sf.get(aid), ACCOUNT_FIELDS) == values, aid
    acme = held(sf.get(world.ids["acme"]), ACCOUNT_FIELDS)
    assert acme == {
        "SW_Tags__c": "Blog Reader;Demo Request;Pricing Page",
        "SW_Temperature__c": "Hot",
        "SW_Engagement_Score__c": 42,
        "SW_Fit_Score__c": 7,
    }
    # Globex's only SalesWings contact was cleaned: its aggregates are cleared.
    assert held(sf.get(world.ids["globex"]), ACCOUNT_FIELDS) == dict.fromkeys(ACCOUNT_FIELDS)
    for opp in sf.db["Opportunity"].values():
        account = held(sf.get(opp["AccountId"]), OPP_FIELDS)
        assert held(opp, OPP_FIELDS) == account


def test_a_contact_change_moves_the_account_aggregate_and_nothing_else(aggregation):
    world = aggregation
    world.cycle()
    world.sw.put_prospect(
        **(world.sw.prospect("p_bob") | {"temperature": "Hot", "scores": {"engagement": 99}})
    )
    mark = len(world.sf.writes)

    world.cycle()

    acme = world.sf.get(world.ids["acme"])
    assert acme["SW_Engagement_Score__c"] == 99
    written = {rid for _, rid, _ in world.sf.writes[mark:]}
    assert written == {world.ids["bob_contact"], world.ids["acme"], world.ids["acme_opp"]}


def test_aggregation_steps_are_left_out_without_account_aggregation(world):
    cycle = world.cycle()
    names = [s["name"] for s in cycle.steps]
    assert "AggregateTags" not in names and "CreateOpportunityTags" not in names
