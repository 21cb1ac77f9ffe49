"""Field Mappings and Logger Options: checked against the org, refused on the field."""

import pytest
from django.urls import reverse

from syncapp.models import FieldMapping, LoggerOptions
from tests.factories import FieldMappingFactory, ScoreDefinitionFactory

pytestmark = pytest.mark.django_db

ADD = "admin:syncapp_fieldmapping_add"


def test_an_administrator_maps_a_score_to_a_field(admin_client_sw):
    score = ScoreDefinitionFactory(backend_id="engagement")
    response = admin_client_sw.post(
        reverse(ADD), {"score": score.pk, "object": "Lead", "field": "SW_Engagement_Score__c"}
    )
    assert response.status_code == 302
    assert FieldMapping.objects.get().field == "SW_Engagement_Score__c"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"object": "Lead", "field": "Nope__c"}, "field", "has no field named Nope__c"),
        ({"object": "Lead", "field": "LastName"}, "field", "Lead.LastName is a string field"),
        ({"object": "Case", "field": "SW_Engagement_Score__c"}, "object", "valid choice"),
        ({"object": "Lead", "field": ""}, "field", "This field is required"),
    ],
)
def test_bad_mappings_are_refused_on_the_field(admin_client_sw, data, field, message):
    score = ScoreDefinitionFactory(backend_id="engagement")
    response = admin_client_sw.post(reverse(ADD), {"score": score.pk, **data})
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not FieldMapping.objects.exists()


def test_an_unreachable_org_is_a_message_on_the_field(admin_client_sw, network):
    def down(obj):
        raise ConnectionError("connection refused")

    network.sf.fields = down
    score = ScoreDefinitionFactory(backend_id="fit")
    response = admin_client_sw.post(
        reverse(ADD), {"score": score.pk, "object": "Lead", "field": "SW_Fit_Score__c"}
    )
    errors = " ".join(response.context["adminform"].form.errors["field"])
    assert "Could not check the field against the org" in errors
    assert not FieldMapping.objects.exists()


def test_the_second_field_for_one_score_and_object_is_refused(admin_client_sw):
    mapping = FieldMappingFactory(score=ScoreDefinitionFactory(backend_id="engagement"))
    response = admin_client_sw.post(
        reverse(ADD), {"score": mapping.score.pk, "object": "Lead", "field": "SW_Fit_Score__c"}
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert FieldMapping.objects.count() == 1


def test_logger_options_refuse_bad_levels_and_duplicates(admin_client_sw):
    url = reverse("admin:syncapp_loggeroptions_add")
    ok = admin_client_sw.post(url, {"logger": "syncapp.engine", "level": "INFO"})
    assert ok.status_code == 302
    bad = admin_client_sw.post(url, {"logger": "syncapp.x", "level": "LOUD"})
    assert "valid choice" in " ".join(bad.context["adminform"].form.errors["level"])
    dup = admin_client_sw.post(url, {"logger": "syncapp.engine", "level": "ERROR"})
    assert "already exists" in " ".join(dup.context["adminform"].form.errors["logger"])
    assert list(LoggerOptions.objects.values_list("logger", "level")) == [
        ("syncapp.engine", "INFO")
    ]


def test_a_saved_mapping_is_named_by_its_score(admin_client_sw):
    score = ScoreDefinitionFactory(backend_id="engagement", name="Engagement")
    response = admin_client_sw.post(
        reverse(ADD),
        {"score": score.pk, "object": "Lead", "field": "SW_Engagement_Score__c"},
        follow=True,
    )
    content = response.content.decode()
    assert "Engagement → Lead.SW_Engagement_Score__c" in content
    assert f"{score.pk} → Lead" not in content
