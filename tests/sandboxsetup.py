"""Configuring the product for a whole-workflow run against the sandbox org."""

from syncapp.engine.field_mappings import check_target
from syncapp.models import StudioOptions
from tests.factories import FieldMappingFactory, ScoreDefinitionFactory

SCORE_FIELDS = (("engagement", "SW_Engagement_Score__c"), ("fit", "SW_Fit_Score__c"))


def configure_everything(**options):
    """Map both sandbox scores on every object and turn on every optional step family.

    Mappings are checked against the sandbox org's describe over HTTP, as the admin does.
    Extra keyword arguments are further Studio Options values.
    """
    for score, field in SCORE_FIELDS:
        definition = ScoreDefinitionFactory(backend_id=score, name=score.title())
        for obj in ("Lead", "Contact", "Account", "Opportunity"):
            check_target(obj, field)
            mapping = FieldMappingFactory.build(score=definition, object=obj, field=field)
            mapping.full_clean()
            mapping.save()
    studio = StudioOptions.load()
    studio.account_aggregation = True
    studio.opportunity_tags = True
    studio.opportunity_scores = True
    studio.api_call_reserve = 0
    for name, value in options.items():
        setattr(studio, name, value)
    studio.save()
    return studio
