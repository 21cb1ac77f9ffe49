"""The sandbox's admin page: the fault switches and the counters."""

import pytest

from sandbox import runtime
from sandbox.models import Counter


@pytest.fixture
def admin_client(client, django_user_model):
    # The sandbox's pages are for whoever runs the demo: a superuser (the product's
    # administrator persona has no rights on sandbox tables).
    user = django_user_model.objects.create_superuser("sandbox-admin", "a@b.io", "pw-1-sandbox")
    client.force_login(user)
    return client


def test_settings_page_and_change(admin_client):
    r = admin_client.get("/admin/sandbox/sandboxsettings/")
    assert r.status_code == 302
    page = admin_client.get(r.url)
    assert page.status_code == 200
    assert b"UNABLE_TO_LOCK_ROW rate" in page.content
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(lock_row_rate="0.3", validation_rules='[{"share": 0.1}]', auto_churn="on")
    r = admin_client.post(page.wsgi_request.path, data)
    assert r.status_code == 302, r.context["adminform"].form.errors
    assert runtime.load_settings().lock_row_rate == 0.3
    data.update(lock_row_rate="3")
    r = admin_client.post(page.wsgi_request.path, data)
    assert r.status_code == 200  # refused with the form's message
    assert runtime.load_settings().lock_row_rate == 0.3


def test_counters_page(admin_client):
    runtime.bump({"sf.api_calls": 3})
    r = admin_client.get("/admin/sandbox/counter/")
    assert r.status_code == 200 and b"sf.api_calls" in r.content
    action = {"action": "reset_all", "_selected_action": ["sf.api_calls"]}
    admin_client.post("/admin/sandbox/counter/", action)
    assert not Counter.objects.exists()
