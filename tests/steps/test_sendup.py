"""UpdateToSalesWings: Salesforce-side changes of matched records go up once."""

import pytest

from syncapp.models import AsyncJob, StudioOptions

pytestmark = pytest.mark.django_db


def test_send_up_delivers_exactly_the_changed_records_once(world):
    sf, sw, ids = world.sf, world.sw, world.ids
    world.cycle()
    world.cycle()
    # The sync's own writes (prospect id, favourite...) are not echoed back.
    assert sw.changes == []

    sf.edit(ids["ada_lead"], FirstName="Augusta")
    sf.edit(ids["bob_contact"], SW_Favorite__c=True)
    sf.edit(ids["plain_lead"], FirstName="Not matched")  # holds no prospect id: not sent
    sf.edit(ids["cy_lead"], Company="Other")  # not a send-up field: not sent

    world.cycle()

    sent = [c for batch in sw.changes for c in batch]
    assert sorted(c["salesforceId"] for c in sent) == sorted([ids["ada_lead"], ids["bob_contact"]])
    ada = next(c for c in sent if c["salesforceId"] == ids["ada_lead"])
    assert ada == {
        "salesforceId": ids["ada_lead"],
        "object": "Lead",
        "email": "ADA@Example.com",
        "favorite": True,
        "firstName": "Augusta",
        "lastName": "Lovelace",
        "ownerEmail": "owner@example.com",
        "prospectId": "p_ada",
    }
    world.cycle()
    assert len([c for batch in sw.changes for c in batch]) == 2  # once
    assert AsyncJob.objects.filter(class_name="UpdateToSalesWings").exists()


def test_a_failed_send_is_sent_again_next_cycle(world):
    world.cycle()
    world.sf.edit(world.ids["ada_lead"], LastName="Byron")
    world.sw.fail_sends = True
    cycle = world.cycle()
    assert cycle.step("UpdateToSalesWings")["batches_failed"] == 1

    world.sw.fail_sends = False
    world.cycle()

    sent = [c for batch in world.sw.changes for c in batch]
    assert [c["lastName"] for c in sent] == ["Byron"]


def test_disable_triggers_turns_the_send_up_off(world):
    options = StudioOptions.load()
    options.disable_triggers = True
    options.save()
    cycle = world.cycle()
    assert "UpdateToSalesWings" not in [s["name"] for s in cycle.steps]


def test_a_failed_chunk_keeps_the_watermark_before_it(world, monkeypatch):
    from syncapp.engine.steps import sendup

    monkeypatch.setattr(sendup, "SEND_MAX", 1)
    world.cycle()
    world.sf.edit(world.ids["ada_lead"], LastName="First")
    world.sf.edit(world.ids["cy_lead"], LastName="Second")
    calls = []
    real = world.sw.send_changes

    def fail_first(records):
        calls.append(records)
        if len(calls) == 1:
            raise ConnectionError("backend unavailable (503)")
        return real(records)

    world.sw.send_changes = fail_first
    world.cycle()
    assert world.sw.changes == []  # the second chunk was not sent past the failed first

    world.cycle()
    sent = [c["lastName"] for batch in world.sw.changes for c in batch]
    assert sent == ["First", "Second"]


def test_a_record_written_by_a_batch_whose_worker_died_is_not_sent_up(world):
    """The Match step wrote the org, then its worker died before the batch's commit (the
    snapshots of what it wrote): the next send-up must not take the sync's own write for a
    person's change (issue 26, point 8). A person's edit of the same records still goes up."""
    from syncapp.engine.steps.matching import in_mode
    from syncapp.models import RecordSnapshot

    sf, sw, ids = world.sf, world.sw, world.ids
    world.cycle()  # the send-up's baseline
    sw.put_prospect(**{**sw.prospect("p_ada"), "favorite": False})
    sw.put_prospect(**{**sw.prospect("p_cy"), "favorite": True})
    sw.put_prospect(id="p_new", email="new@example.com", favorite=True, scores={"fit": 1})
    new_lead = sf.add("Lead", Email="new@example.com", LastName="N", Company="X")

    def died(*args, **kwargs):
        raise RuntimeError("worker died")  # the batch's transaction never commits

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(in_mode, "refresh_snapshots", died)
        world.cycle()
    assert sf.get(ids["ada_lead"])["SW_Favorite__c"] is False  # written to the org
    assert sf.get(ids["cy_lead"])["SW_Favorite__c"] is True
    assert sf.get(new_lead)["SW_Prospect_Id__c"] == "p_new"
    stale = RecordSnapshot.objects.get(salesforce_id=ids["ada_lead"])
    assert stale.favorite is True  # the snapshot still holds the value before the write
    assert not RecordSnapshot.objects.filter(salesforce_id=new_lead).exists()  # never taken

    sf.edit(ids["bob_contact"], LastName="Person")  # a person's change, sent
    world.cycle()
    sent = [c for batch in sw.changes for c in batch]
    assert [c["salesforceId"] for c in sent] == [ids["bob_contact"]]
    assert RecordSnapshot.objects.get(salesforce_id=ids["ada_lead"]).favorite is False
    assert RecordSnapshot.objects.get(salesforce_id=ids["cy_lead"]).favorite is True
    assert RecordSnapshot.objects.get(salesforce_id=new_lead).prospect_id == "p_new"

    # A person then changes the favourite against the backend's value: that goes up.
    sf.edit(ids["cy_lead"], SW_Favorite__c=False)
    world.cycle()
    sent = [c for batch in sw.changes for c in batch]
    assert [c["salesforceId"] for c in sent][-1] == ids["cy_lead"]
