"""Every changelist and change view answers an administrator and refuses an outsider."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_q.models import Schedule

from syncapp.engine import control
from syncapp.engine.cycle import start_cycle
from syncapp.models import (
    Activity,
    AsyncJob,
    FieldMapping,
    LoggerOptions,
    NotificationSetting,
    Prospect,
    ScheduledJob,
    ScoreDefinition,
    StudioOptions,
    SWApexJob,
    TagDefinition,
    WorkflowOption,
)
from syncapp.models.statuses import Trigger
from tests import factories

pytestmark = pytest.mark.django_db

SYNCAPP_MODELS = [
    SWApexJob,
    AsyncJob,
    ScheduledJob,
    StudioOptions,
    NotificationSetting,
    WorkflowOption,
    FieldMapping,
    LoggerOptions,
    TagDefinition,
    ScoreDefinition,
    Prospect,
    Activity,
]


@pytest.fixture
def one_of_each(admin_user, job_queue):
    control.turn_on(admin_user)
    start_cycle(Trigger.WATCHER)
    job_queue.run_all()
    StudioOptions.load()
    factories.NotificationSettingFactory()
    factories.WorkflowOptionFactory(step="Counting")
    factories.FieldMappingFactory()
    factories.LoggerOptionsFactory(logger="syncapp.engine")
    factories.TagDefinitionFactory(backend_id="tag_demo", name="Demo Request")
    prospect = factories.ProspectFactory(backend_id="p_1", email="a@example.com")
    factories.ActivityFactory(backend_id="act_1", prospect=prospect)
    factories.ScheduleFactory(name="Someone else's schedule")


def _urls(model):
    opts = model._meta
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {opts.label} to open"
    return [
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
    ]


@pytest.mark.parametrize("model", SYNCAPP_MODELS, ids=lambda m: m._meta.model_name)
def test_administrator_and_viewer_open_every_list_and_record(
    model, one_of_each, admin_client_sw, viewer_client
):
    for client in (admin_client_sw, viewer_client):
        for url in _urls(model):
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            assert b"SW Studio" in response.content


@pytest.mark.parametrize("model", SYNCAPP_MODELS, ids=lambda m: m._meta.model_name)
def test_outsider_and_anonymous_are_refused(model, one_of_each, outsider_client):
    for url in _urls(model):
        assert outsider_client.get(url).status_code == 403, url
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_superuser_opens_every_registered_admin(one_of_each, client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1")
    client.force_login(superuser)
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist, follow=True).status_code == 200, changelist
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and model is not Schedule:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change, follow=True).status_code == 200, change


def test_setup_and_index_answer_administrator_and_viewer(admin_client_sw, viewer_client):
    for client in (admin_client_sw, viewer_client):
        assert client.get(reverse("admin:swstudio_setup")).status_code == 200
        assert client.get(reverse("admin:index")).status_code == 200


def test_setup_refuses_outsider_and_anonymous(outsider_client):
    for name in ("admin:swstudio_setup", "admin:swstudio_setup_progress"):
        assert outsider_client.get(reverse(name)).status_code == 403
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
