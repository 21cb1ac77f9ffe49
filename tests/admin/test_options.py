"""Studio Options, Notification Settings, Workflow Options: one record, fieldsets, and bad
input refused with a message on the field and nothing changed."""

import pytest
from django.urls import reverse

from syncapp.models import NotificationSetting, StudioOptions, WorkflowOption
from tests import factories

pytestmark = pytest.mark.django_db

OPTIONS_CHANGE = "admin:syncapp_studiooptions_change"


def _options_form_data(**overrides):
    data = {
        "sync_gap_minutes": "5",
        "apex_jobs_threshold": "100",
        "api_endpoint": "",
        "max_sync_attempts": "5",
        "api_call_reserve": "1000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_opens_the_single_record(admin_client_sw):
    response = admin_client_sw.get(reverse("admin:syncapp_studiooptions_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse(OPTIONS_CHANGE, args=[1])
    assert StudioOptions.objects.count() == 1


def test_studio_options_cannot_be_added_or_deleted(admin_client_sw):
    StudioOptions.load()
    assert admin_client_sw.get(reverse("admin:syncapp_studiooptions_add")).status_code == 403
    delete = reverse("admin:syncapp_studiooptions_delete", args=[1])
    assert admin_client_sw.post(delete, {"post": "yes"}).status_code == 403
    assert StudioOptions.objects.count() == 1


def test_the_viewer_sees_options_read_only(viewer_client):
    StudioOptions.load()
    response = viewer_client.get(reverse(OPTIONS_CHANGE, args=[1]))
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields  # every field read-only
    assert (
        viewer_client.post(reverse(OPTIONS_CHANGE, args=[1]), _options_form_data()).status_code
        == 403
    )


def test_the_options_page_is_grouped_with_help_texts(admin_client_sw):
    StudioOptions.load()
    content = admin_client_sw.get(reverse(OPTIONS_CHANGE, args=[1])).content.decode()
    for heading in (
        "Schedule",
        "SalesWings backend",
        "What is synchronized",
        "Full Synchronization",
    ):
        assert f">{heading}</h2>" in content
    assert "Minutes between the end of one synchronization cycle" in content


def test_an_administrator_saves_options(admin_client_sw):
    StudioOptions.load()
    response = admin_client_sw.post(
        reverse(OPTIONS_CHANGE, args=[1]),
        _options_form_data(sync_gap_minutes="15", account_aggregation="on", opportunity_tags="on"),
    )
    assert response.status_code == 302
    options = StudioOptions.load()
    assert options.sync_gap_minutes == 15 and options.opportunity_tags


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sync_gap_minutes": "0"}, "sync_gap_minutes", "greater than or equal to 1"),
        ({"sync_gap_minutes": "-1"}, "sync_gap_minutes", "greater than or equal to 1"),
        ({"sync_gap_minutes": "soon"}, "sync_gap_minutes", "Enter a whole number"),
        # A week at most: 10^10 minutes was saved, then failed the Enqueuer's `now + gap`.
        ({"sync_gap_minutes": "10081"}, "sync_gap_minutes", "less than or equal to 10080"),
        ({"sync_gap_minutes": "10000000000"}, "sync_gap_minutes", "less than or equal to 10080"),
        ({"apex_jobs_threshold": "-3"}, "apex_jobs_threshold", "greater than or equal to 1"),
        ({"apex_jobs_threshold": "100001"}, "apex_jobs_threshold", "less than or equal to"),
        ({"max_sync_attempts": "101"}, "max_sync_attempts", "less than or equal to 100"),
        ({"api_endpoint": "not a url"}, "api_endpoint", "Enter a valid URL"),
        ({"api_endpoint": "ftp://example.com"}, "api_endpoint", "Enter a valid URL"),
        ({"max_sync_attempts": "0"}, "max_sync_attempts", "greater than or equal to 1"),
        ({"opportunity_tags": "on"}, "opportunity_tags", "Needs Account Aggregation"),
        ({"opportunity_scores": "on"}, "opportunity_scores", "Needs Account Aggregation"),
    ],
)
def test_bad_options_are_refused_on_the_field(admin_client_sw, overrides, field, message):
    StudioOptions.load()
    before = list(StudioOptions.objects.values())
    response = admin_client_sw.post(
        reverse(OPTIONS_CHANGE, args=[1]), _options_form_data(**overrides)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert list(StudioOptions.objects.values()) == before


# --- Notification Settings ---------------------------------------------------------------------


def _rule_data(**overrides):
    data = {"name": "Ops", "active": "on", "threshold_minutes": "60", "emails": "ops@example.com"}
    data.update(overrides)
    return data


def test_an_administrator_adds_a_rule(admin_client_sw, admin_user):
    response = admin_client_sw.post(
        reverse("admin:syncapp_notificationsetting_add"),
        _rule_data(emails="", users=[admin_user.pk]),
    )
    assert response.status_code == 302
    rule = NotificationSetting.objects.get()
    assert rule.recipients() == [admin_user.email]


@pytest.mark.parametrize(
    "emails",
    [
        "a@example.com, b@example.com",
        "a@example.com\nb@example.com",
        "a@example.com; b@example.com ",
    ],
)
def test_recipients_may_be_separated_by_commas_semicolons_or_new_lines(admin_client_sw, emails):
    response = admin_client_sw.post(
        reverse("admin:syncapp_notificationsetting_add"), _rule_data(emails=emails)
    )
    assert response.status_code == 302
    assert NotificationSetting.objects.get().recipients() == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"emails": ""}, "emails", "at least one recipient"),
        ({"emails": "ops@example.com, not-an-address"}, "emails", "not a valid e-mail"),
        ({"threshold_minutes": "0"}, "threshold_minutes", "greater than or equal to 1"),
        ({"threshold_minutes": "43201"}, "threshold_minutes", "less than or equal to 43200"),
        ({"name": ""}, "name", "This field is required"),
    ],
)
def test_bad_rules_are_refused_on_the_field(admin_client_sw, overrides, field, message):
    response = admin_client_sw.post(
        reverse("admin:syncapp_notificationsetting_add"), _rule_data(**overrides)
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not NotificationSetting.objects.exists()


def test_at_most_fifty_recipients(admin_client_sw, admin_user):
    fifty = ", ".join(f"ops{i}@example.com" for i in range(50))
    add = reverse("admin:syncapp_notificationsetting_add")
    response = admin_client_sw.post(add, _rule_data(emails=fifty, users=[admin_user.pk]))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["emails"])
    assert "At most 50 recipients" in errors and "names 51" in errors
    assert not NotificationSetting.objects.exists()
    assert admin_client_sw.post(add, _rule_data(emails=fifty)).status_code == 302
    assert len(NotificationSetting.objects.get().recipients()) == 50


def test_rule_names_are_unique_whatever_their_case(admin_client_sw):
    add = reverse("admin:syncapp_notificationsetting_add")
    assert admin_client_sw.post(add, _rule_data(name="Ops on-call")).status_code == 302
    response = admin_client_sw.post(add, _rule_data(name="ops ON-CALL"))
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert NotificationSetting.objects.count() == 1


def test_the_rule_list_counts_recipients(admin_client_sw, admin_user):
    rule = factories.NotificationSettingFactory(emails="a@example.com, b@example.com")
    rule.users.add(admin_user)
    content = admin_client_sw.get(
        reverse("admin:syncapp_notificationsetting_changelist")
    ).content.decode()
    assert "1 user + 2 addresses" in content


# --- Workflow Options ----------------------------------------------------------------------------


def test_workflow_option_steps_come_from_the_workflow(admin_client_sw):
    response = admin_client_sw.get(reverse("admin:syncapp_workflowoption_add"))
    choices = [value for value, _ in response.context["adminform"].form.fields["step"].choices]
    assert choices == ["Counting", "Second", "Finalizer", "Enqueuer"]
    response = admin_client_sw.post(
        reverse("admin:syncapp_workflowoption_add"),
        {"step": "Counting", "enabled": "on", "batch_size": "50"},
    )
    assert response.status_code == 302
    assert WorkflowOption.objects.get().batch_size == 50


def test_a_workflow_option_without_a_batch_size_keeps_the_steps_default(admin_client_sw):
    """A row made only to turn a step on or off does not change its batch size: empty means
    the step's own default, which the step's choice and the list show."""
    response = admin_client_sw.get(reverse("admin:syncapp_workflowoption_add"))
    labels = dict(response.context["adminform"].form.fields["step"].choices)
    assert labels["Counting"] == "SWJobCounting (batch size 200 by default)"
    response = admin_client_sw.post(
        reverse("admin:syncapp_workflowoption_add"), {"step": "Counting", "enabled": ""}
    )
    assert response.status_code == 302
    option = WorkflowOption.objects.get()
    assert (option.enabled, option.batch_size) == (False, None)
    factories.WorkflowOptionFactory(step="Second", batch_size=1500)
    content = admin_client_sw.get(
        reverse("admin:syncapp_workflowoption_changelist")
    ).content.decode()
    assert "200 (the step&#x27;s default)" in content
    assert "1,500" in content


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"step": "NoSuchStep", "batch_size": "50"}, "step", "Select a valid choice"),
        ({"step": "Counting", "batch_size": "0"}, "batch_size", "greater than or equal to 1"),
        ({"step": "Counting", "batch_size": "-5"}, "batch_size", "greater than or equal to 1"),
        ({"step": "Counting", "batch_size": "50001"}, "batch_size", "less than or equal to"),
        ({"step": "Second", "batch_size": "50"}, "step", "already exists"),
        # Without the Enqueuer no Runner is scheduled: the sync would wait for the Watcher.
        ({"step": "Enqueuer", "enabled": ""}, "enabled", "SWJobEnqueuer runs in every cycle"),
        ({"step": "Finalizer", "enabled": ""}, "enabled", "cannot be turned off"),
    ],
)
def test_bad_workflow_options_are_refused_on_the_field(admin_client_sw, data, field, message):
    factories.WorkflowOptionFactory(step="Second", batch_size=10)
    response = admin_client_sw.post(reverse("admin:syncapp_workflowoption_add"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert list(WorkflowOption.objects.values_list("step", "batch_size")) == [("Second", 10)]


def test_a_step_that_left_the_workflow_stays_editable(admin_client_sw):
    option = factories.WorkflowOptionFactory(step="Retired")
    response = admin_client_sw.get(reverse("admin:syncapp_workflowoption_change", args=[option.pk]))
    choices = dict(response.context["adminform"].form.fields["step"].choices)
    assert "not in the workflow" in choices["Retired"]


def test_the_workflow_option_step_help_text_reads_whole(admin_client_sw):
    # Help texts are HTML in the admin: "SWJob<Step>" used to show as "SWJob".
    content = admin_client_sw.get(reverse("admin:syncapp_workflowoption_add")).content.decode()
    assert "its Apex Job is SWJob followed by the step" in content
    assert "e.g. SWJobGetTags)" in content
    assert "<Step>" not in content
