"""A Field Mapping's target is checked against the org's describe (the admin form runs it)."""

import pytest
from django.core.exceptions import ValidationError

from syncapp.engine.field_mappings import check_target


def test_a_mapping_to_an_existing_field_is_accepted():
    check_target("Account", "SW_Engagement_Score__c")


def test_a_mapping_to_a_field_the_org_does_not_have_is_refused_on_the_field():
    with pytest.raises(ValidationError) as exc:
        check_target("Lead", "Nope__c")
    assert exc.value.message_dict["field"] == ["The org's Lead has no field named Nope__c."]


@pytest.mark.parametrize(
    ("describe", "message"),
    [
        (
            {"name": "LastName", "type": "string"},
            "Lead.LastName is a string field: a score needs a number field (double, int, "
            "percent or currency).",
        ),
        (
            {"name": "LastName", "type": "double", "updateable": False},
            "Lead.LastName is read-only in the org: the sync cannot write it.",
        ),
    ],
)
def test_a_mapping_to_a_field_a_score_cannot_go_into_is_refused(network, describe, message):
    network.sf.fields = lambda obj: {"LastName": describe}
    with pytest.raises(ValidationError) as exc:
        check_target("Lead", "LastName")
    assert exc.value.message_dict["field"] == [message]


def test_an_unreachable_org_is_a_clear_field_error(network):
    def down(obj):
        raise ConnectionError("connection refused")

    network.sf.fields = down
    with pytest.raises(ValidationError) as exc:
        check_target("Lead", "SW_Fit_Score__c")
    (message,) = exc.value.message_dict["field"]
    assert "Could not check the field against the org" in message
    assert "connection refused" in message
