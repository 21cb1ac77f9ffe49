import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from syncapp import roles
from syncapp.models import (
    FieldMapping,
    NotificationSetting,
    Prospect,
    ScoreDefinition,
    SWApexJob,
    TagDefinition,
)
from syncapp.models.statuses import CycleStatus, Trigger


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


def administrator(**kwargs):
    return UserFactory(role=roles.ADMINISTRATOR, is_staff=True, **kwargs)


def viewer(**kwargs):
    return UserFactory(role=roles.USER, is_staff=True, **kwargs)


def outsider(**kwargs):
    return UserFactory(is_staff=True, **kwargs)


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SWApexJob

    status = CycleStatus.COMPLETED
    trigger = Trigger.RUNNER
    generation = 1
    start_time = factory.LazyFunction(timezone.now)
    end_time = factory.LazyFunction(timezone.now)
    steps = factory.LazyFunction(list)


class NotificationSettingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationSetting

    name = factory.Sequence(lambda n: f"rule {n}")
    emails = "ops@example.com"
    threshold_minutes = 60


class TagDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TagDefinition
        django_get_or_create = ["backend_id"]

    backend_id = factory.Sequence(lambda n: f"tag_{n}")
    name = factory.LazyAttribute(lambda t: t.backend_id.replace("tag_", "").title())


class ScoreDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoreDefinition
        django_get_or_create = ["backend_id"]

    backend_id = factory.Sequence(lambda n: f"score_{n}")
    name = factory.LazyAttribute(lambda s: s.backend_id.title())


class FieldMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldMapping

    score = factory.SubFactory(ScoreDefinitionFactory)
    object = "Lead"
    field = "SW_Engagement_Score__c"


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    backend_id = factory.Sequence(lambda n: f"p_{n:06d}")
    email = factory.LazyAttribute(lambda p: f"{p.backend_id}@example.com")
    email_key = factory.LazyAttribute(lambda p: p.email.lower())
    lifecycle = "Active"
    seq = factory.Sequence(lambda n: n + 1)
