"""The world generator: sizes, determinism, consistency; churn; the sandbox command."""

import io

import pytest
from django.core.management import call_command

from sandbox import churn, runtime, seed
from sandbox.models import SfAccount, SfContact, SfLead, SfOpportunity, SwActivity, SwProspect
from tests.sandbox.conftest import BASE_TIME

pytestmark = pytest.mark.django_db

SIZES = seed.Sizes(prospects=300, leads=200, contacts=150, accounts=20, opportunities=30,
                   match_share=0.6)  # fmt: skip


def snapshot():
    return (
        list(SwProspect.objects.order_by("seq").values_list("id", "email", "lifecycle", "tags",
                                                            "scores", "last_visit")),
        list(SfLead.objects.order_by("pk").values_list("email", "is_converted", "owner_id")),
        list(SfContact.objects.order_by("pk").values_list("email", "account_id")),
        list(SwActivity.objects.order_by("seq").values_list("prospect_id", "type")),
    )  # fmt: skip


def test_sizes():
    seed.seed(SIZES, 3, BASE_TIME)
    assert SwProspect.objects.count() == 300
    assert SwActivity.objects.count() == 600
    assert (SfLead.objects.count(), SfContact.objects.count()) == (200, 150)
    assert (SfAccount.objects.count(), SfOpportunity.objects.count()) == (20, 30)


def test_same_seed_same_world_other_seed_other_world():
    seed.seed(SIZES, 3, BASE_TIME)
    one = snapshot()
    seed.seed(SIZES, 3, BASE_TIME)
    assert snapshot() == one
    seed.seed(SIZES, 4, BASE_TIME)
    assert snapshot() != one


def test_match_share_links_records_to_prospects():
    seed.seed(SIZES, 3, BASE_TIME)
    emails = {e.lower() for e in SwProspect.objects.values_list("email", flat=True)}
    leads = list(SfLead.objects.values_list("email_lower", flat=True))
    share = sum(e in emails for e in leads) / len(leads)
    assert 0.45 < share < 0.75
    # Some matches differ in case only, to exercise case-insensitive matching.
    assert SfLead.objects.exclude(email=models_lower("email")).exists()
    assert SfLead.objects.filter(is_converted=True).exists()
    contact_accounts = set(
        SfContact.objects.exclude(account_id=None).values_list("account_id", flat=True)
    )
    assert contact_accounts <= {a.sf_id for a in SfAccount.objects.all()}


def models_lower(field):
    from django.db.models.functions import Lower

    return Lower(field)


def test_churn_moves_prospects_forward():
    seed.seed(SIZES, 3, BASE_TIME)
    top = SwProspect.objects.order_by("-seq").first().seq
    done = churn.churn(30, seed=1)
    assert done["visited"] > 0 and done["merged"] >= 1 and done["deleted"] >= 1
    assert done["created"] >= 1
    changed = SwProspect.objects.filter(seq__gt=top)
    assert changed.count() == 30 + done["created"]
    assert SwActivity.objects.count() == 600 + done["activities"]


def test_command_seeds_and_prints_credentials():
    out = io.StringIO()
    call_command("sandbox", "seed", "--prospects", "50", "--leads", "10", "--contacts", "10",
                 "--accounts", "2", "--opportunities", "2", "--seed", "9", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "API token      sw-sandbox-token" in text
    assert "client secret  swstudio-sandbox-client-secret" in text
    assert SwProspect.objects.count() == 50
    out = io.StringIO()
    call_command("sandbox", "seed", "--if-empty", stdout=out)
    assert "not seeding" in out.getvalue()
    assert SwProspect.objects.count() == 50


def test_command_seeds_a_bare_org_and_a_plain_seed_deploys_the_package_again():
    call_command("sandbox", "seed", "--prospects", "5", "--leads", "5", "--contacts", "5",
                 "--bare", stdout=io.StringIO())  # fmt: skip
    missing = runtime.load_settings().missing_metadata
    assert "SW_Activity__c" in missing and "Lead.SW_Prospect_Id__c" in missing
    assert "Account.SW_Tags__c" in missing and "Lead.Email" not in missing
    call_command("sandbox", "seed", "--prospects", "5", stdout=io.StringIO())
    assert runtime.load_settings().missing_metadata == []


def test_command_faults_and_stats():
    out = io.StringIO()
    call_command("sandbox", "faults", "--set", '{"lock_row_rate": 0.25}', stdout=out)
    assert '"lock_row_rate": 0.25' in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sandbox", "faults", "--set", '{"lock_row_rate": 7}')
    call_command("sandbox", "stats", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seed", "--prospects", "-5"], "a whole number from 0 to 1,000,000, not '-5'"),
        # 10^8 grew memory by ~70 MB/s until it was killed.
        (["seed", "--prospects", "100000000"], "from 0 to 1,000,000, not '100000000'"),
        (["seed", "--match-share", "2"], "a share from 0 to 1, not '2'"),
        (["seed", "--base-time", "9999-12-31T23:00:00+00:00"], "from 2000 to 2100, not 9999"),
        (["seed", "--base-time", "0001-01-01T00:00:00"], "from 2000 to 2100, not 0001"),
        # As POST /sandbox/control/churn?size= takes it (0 created a prospect; 100,000 merged
        # nearly the whole world).
        (["churn", "--size", "0"], "a whole number from 1 to 100,000, not '0'"),
        (["churn", "--size", "100001"], "from 1 to 100,000, not '100001'"),
        (["faults", "--set", '{"lock_row_rate": NaN}'], "Must be a finite number"),
    ],
)
def test_the_command_refuses_bad_values_with_a_message(args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("sandbox", *args, stdout=io.StringIO())
    assert not SwProspect.objects.exists()
