import pytest
from django.conf import settings as django_settings

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import StudioOptions, SWApexJob
from syncapp.models.statuses import Trigger
from tests.factories import FieldMappingFactory, ScoreDefinitionFactory

NOW = "2026-11-26T09:30:00+00:00"


class World:
    """A seeded backend and org (docs/salesforce-model.md), and what a test needs to run and
    inspect cycles over them."""

    def __init__(self, sf, sw, job_queue):
        self.sf, self.sw, self.job_queue = sf, sw, job_queue
        self.ids = {}

    def cycle(self, trigger=Trigger.RUNNER):
        cycle = start_cycle(trigger)
        assert cycle is not None, "no cycle started"
        self.job_queue.run_all()
        return SWApexJob.objects.get(pk=cycle.pk)


def seed(sf, sw):
    ids = {}
    sw.tag_list = [
        {"id": "tag_pricing", "name": "Pricing Page", "description": ""},
        {"id": "tag_demo", "name": "Demo Request", "description": ""},
        {"id": "tag_blog", "name": "Blog Reader", "description": ""},
    ]
    sw.score_list = [
        {"id": "engagement", "name": "Engagement", "description": ""},
        {"id": "fit", "name": "Fit", "description": ""},
    ]
    for score, field in (("engagement", "SW_Engagement_Score__c"), ("fit", "SW_Fit_Score__c")):
        definition = ScoreDefinitionFactory(backend_id=score, name=score.title())
        for obj in ("Lead", "Contact", "Account", "Opportunity"):
            FieldMappingFactory(score=definition, object=obj, field=field)
    ids["owner"] = sf.add("User", Email="owner@example.com", Name="Olga Owner")
    for name in ("acme", "globex", "initech"):
        ids[name] = sf.add("Account", Name=name.title())
    # Stale aggregates on Globex: its only SalesWings contact belongs to a deleted prospect.
    sf.edit(ids["globex"], SW_Tags__c="Blog Reader", SW_Temperature__c="Cold")

    sw.put_prospect(
        id="p_ada",
        email="ada@example.com",
        firstName="Ada",
        lastName="Lovelace",
        temperature="Hot",
        lastVisit=NOW,
        favorite=True,
        tags=["tag_pricing", "tag_demo"],
        scores={"engagement": 42, "fit": 7},
    )
    ids["ada_lead"] = sf.add(
        "Lead", Email="ADA@Example.com", LastName="Lovelace", Company="X", OwnerId=ids["owner"]
    )
    ids["ada_contact"] = sf.add(
        "Contact",
        Email="ada@example.com",
        LastName="Lovelace",
        AccountId=ids["acme"],
        OwnerId=ids["owner"],
    )
    sw.put_prospect(
        id="p_bob",
        email="bob@example.com",
        temperature="Warm",
        tags=["tag_blog"],
        scores={"engagement": 10},
    )
    ids["bob_contact"] = sf.add(
        "Contact", Email="bob@example.com", LastName="B", AccountId=ids["acme"]
    )
    ids["bob_converted"] = sf.add(
        "Lead", Email="bob@example.com", LastName="B", Company="X", IsConverted=True
    )
    sw.put_prospect(id="p_cy", email="cy@example.com", temperature="Cold", scores={"fit": 3})
    ids["cy_lead"] = sf.add("Lead", Email="cy@example.com", LastName="C", Company="X")
    sw.put_prospect(id="p_nomatch", email="nobody@example.com", temperature="Hot")

    sw.put_prospect(
        id="p_merged", email="old-ada@example.com", lifecycle="Merged", mergedInto="p_ada"
    )
    ids["merged_lead"] = sf.add(
        "Lead",
        Email="old-ada@example.com",
        LastName="L",
        Company="X",
        SW_Prospect_Id__c="p_merged",
        SW_Tags__c="Blog Reader",
        SW_Favorite__c=True,
        SW_Engagement_Score__c=5,
    )
    sw.put_prospect(id="p_gone", email="gone@example.com", lifecycle="Deleted")
    ids["gone_contact"] = sf.add(
        "Contact",
        Email="gone@example.com",
        LastName="G",
        AccountId=ids["globex"],
        SW_Prospect_Id__c="p_gone",
        SW_Tags__c="Blog Reader",
        SW_Temperature__c="Cold",
    )
    ids["unknown_lead"] = sf.add(
        "Lead",
        Email="who@example.com",
        LastName="W",
        Company="X",
        SW_Prospect_Id__c="p_unknown",
        SW_Temperature__c="Hot",
    )
    ids["plain_lead"] = sf.add("Lead", Email="plain@example.com", LastName="P", Company="X")
    ids["plain_contact"] = sf.add(
        "Contact", Email="plain2@example.com", LastName="P", AccountId=ids["initech"]
    )
    ids["acme_opp"] = sf.add(
        "Opportunity", Name="Big deal", AccountId=ids["acme"], StageName="Prospecting"
    )
    ids["globex_opp"] = sf.add(
        "Opportunity",
        Name="Old deal",
        AccountId=ids["globex"],
        StageName="Prospecting",
        SW_Tags__c="Blog Reader",
    )
    return ids


@pytest.fixture
def real_workflow(settings):
    settings.SWSTUDIO_WORKFLOW = django_settings.SWSTUDIO_DEFAULT_WORKFLOW


@pytest.fixture
def world(db, network, job_queue, real_workflow, admin_user):
    w = World(network.sf, network.sw, job_queue)
    w.ids = seed(network.sf, network.sw)
    control.turn_on(admin_user)
    return w


@pytest.fixture
def activities_synced(world):
    """The world after a cycle with SW Activity Data on (three activities in the org), the
    option then switched off: what the Setup page's Data section deletes."""
    options = StudioOptions.load()
    options.activity_sync = True
    options.save()
    for n in range(3):
        world.sw.put_activity(
            id=f"act_{n}",
            prospectId="p_ada",
            type="page_visit",
            occurredAt="2026-11-26T09:00:00+00:00",
        )
    world.cycle()
    assert len(world.sf.db["SW_Activity__c"]) == 3
    options.activity_sync = False
    options.save()
    return world
