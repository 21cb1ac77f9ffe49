import pytest

from syncapp.models import FieldMapping
from tests.factories import ScoreDefinitionFactory

pytestmark = pytest.mark.django_db


def test_validating_a_mapping_makes_no_network_call(network):
    def unexpected(obj):
        raise AssertionError("the model called the org")

    network.sf.fields = unexpected
    mapping = FieldMapping(
        score=ScoreDefinitionFactory(backend_id="fit"), object="Lead", field="SW_Fit_Score__c"
    )
    mapping.full_clean()
