import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_q.models import Schedule
from rest_framework.authtoken.models import Token

from sandbox.models import SwProspect
from syncapp import roles
from syncapp.models import (
    Activity,
    AsyncJob,
    FieldMapping,
    LoggerOptions,
    NotificationSetting,
    PendingLogEntry,
    Prospect,
    RecordSnapshot,
    ScoreDefinition,
    SWApexJob,
    TagDefinition,
    WorkflowOption,
)
from syncapp.models.schedules import ScheduleStats
from syncapp.models.statuses import CycleStatus, JobType, Trigger


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


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    backend_id = factory.Sequence(lambda n: f"act_{n}")
    prospect = factory.SubFactory(ProspectFactory)
    type = "page_visit"
    occurred_at = factory.LazyFunction(timezone.now)


class RecordSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecordSnapshot

    salesforce_id = factory.Sequence(lambda n: f"00Q{n:012d}AAA")
    object = "Lead"


class AsyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AsyncJob

    class_name = "SWJobGetTags"
    job_type = JobType.QUEUEABLE
    generation = 1


class WorkflowOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkflowOption

    step = factory.Sequence(lambda n: f"Step{n}")


class LoggerOptionsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LoggerOptions

    logger = factory.Sequence(lambda n: f"syncapp.part{n}")


class PendingLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PendingLogEntry

    time = factory.LazyFunction(timezone.now)
    level = "WARNING"
    logger = "syncapp.engine"
    message = factory.Sequence(lambda n: f"message {n}")


class ScheduleFactory(factory.django.DjangoModelFactory):
    """A django-q schedule that is not one of SW Studio's."""

    class Meta:
        model = Schedule

    name = factory.Sequence(lambda n: f"schedule {n}")
    func = "math.floor"
    args = "1"


class ScheduleStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleStats

    schedule = factory.SubFactory(ScheduleFactory)


class TokenFactory(factory.django.DjangoModelFactory):
    """A user's REST API token (its key is generated on save; a user has one)."""

    class Meta:
        model = Token
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory)


class SwProspectFactory(factory.django.DjangoModelFactory):
    """A prospect of the sandbox's SalesWings backend."""

    class Meta:
        model = SwProspect

    id = factory.Sequence(lambda n: f"p{n}")
    seq = factory.Sequence(lambda n: n + 1)
    email = factory.LazyAttribute(lambda p: f"{p.id}@example.org")
    updated_at = factory.LazyFunction(timezone.now)
