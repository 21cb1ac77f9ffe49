"""Every state-changing form refuses a POST without its CSRF token; the admin and the API
refuse a staff user without an SW Studio role (issue 7, item 6).

Already proven elsewhere, not repeated: the Setup page's on/off switch with and without the
token (tests/admin/test_setup_actions.py::test_csrf_is_enforced), the API's session POST
(tests/api/test_permissions.py), the outsider on every SW Studio changelist and change view
(tests/admin/test_smoke.py) and on every API endpoint (tests/api/test_permissions.py). What
this file adds: the other forms (every Setup action, every admin add/change/delete form, the
changelist actions, login, logout, password change), a check that no view of the product is
CSRF-exempt by accident, and the outsider on the admin's other tables and on the API docs.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from syncapp.engine import control
from tests import factories

pytestmark = pytest.mark.django_db

SETUP_ACTIONS = [
    ("admin:swstudio_setup_switch", {}, {"action": "on"}),
    ("admin:swstudio_setup_full_sync", {}, {"requested": "1"}),
    ("admin:swstudio_setup_connect", {}, {"token": "sw_live_abcdefghijkl"}),
    ("admin:swstudio_setup_delete_data", {"dataset": "activities"}, {}),
]


@pytest.fixture
def root(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser("csrf-root", "r@example.com", "pw-root-1")


def csrf_client(user=None):
    client = Client(enforce_csrf_checks=True)
    if user:
        client.force_login(user)
    return client


def assert_csrf_refused(response):
    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content


def state_changing_admin_urls():
    """Every add, change and delete form and every changelist (its actions POST there) of
    every registered model, for the first row of each table."""
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        urls.append(reverse(f"{base}_add"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            pk = obj.user_id if opts.model_name == "tokenproxy" else obj.pk
            urls.append(reverse(f"{base}_change", args=[pk]))
            urls.append(reverse(f"{base}_delete", args=[pk]))
    return urls


@pytest.mark.parametrize(("name", "kwargs", "data"), SETUP_ACTIONS, ids=lambda v: str(v))
def test_every_setup_action_needs_the_token(name, kwargs, data, admin_user):
    client = csrf_client(admin_user)
    assert_csrf_refused(client.post(reverse(name, kwargs=kwargs), data))


def test_every_admin_form_needs_the_token(root):
    control.turn_on(root)
    factories.NotificationSettingFactory()
    factories.FieldMappingFactory()
    factories.administrator(username="someone")
    client = csrf_client(root)
    urls = state_changing_admin_urls()
    # A changelist and an add form for every registered model, more where rows exist.
    assert len(urls) >= 2 * len(admin.site._registry)
    for url in urls:
        response = client.post(url, {"post": "yes", "action": "delete_selected"})
        assert response.status_code == 403, url
        assert b"CSRF verification failed" in response.content, url
    assert get_user_model().objects.filter(username="someone").exists()


def test_the_same_form_with_the_token_goes_through(root):
    """The 403s above are the CSRF check's, not something else's."""
    client = csrf_client(root)
    page = client.get(reverse("admin:syncapp_studiooptions_changelist"), follow=True)
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("admin:logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and b"Logged out" in response.content


def test_login_logout_and_password_change_need_the_token(root):
    assert_csrf_refused(
        csrf_client().post(reverse("admin:login"), {"username": "csrf-root", "password": "x"})
    )
    client = csrf_client(root)
    assert_csrf_refused(client.post(reverse("admin:logout")))
    assert_csrf_refused(
        client.post(
            reverse("admin:password_change"),
            {"old_password": "pw-root-1", "new_password1": "n3w-pw-long", "new_password2": "n3w"},
        )
    )


def _views(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _views(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_no_product_view_is_csrf_exempt():
    """Only DRF views (which enforce CSRF themselves for session-authenticated requests) and
    the sandbox's stand-ins (machine APIs, off in production) may be exempt."""
    exempt = [
        route
        for route, view in _views()
        if getattr(view, "csrf_exempt", False)
        and not hasattr(view, "cls")  # DRF APIView.as_view() carries .cls
        and not view.__module__.startswith(("sandbox.", "drf_spectacular."))
    ]
    assert exempt == []


def test_the_outsider_sees_no_admin_table(outsider_user):
    client = Client()
    client.force_login(outsider_user)
    assert outsider_user.is_staff
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        # follow: the sandbox's one-row settings list redirects to its (refused) row.
        assert client.get(url, follow=True).status_code == 403, url
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []


def test_the_outsider_gets_403_on_the_api(outsider_user):
    from rest_framework.test import APIClient

    from syncapp.api.tokens import issue_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(outsider_user)[0].key}")
    for method, url in [
        ("get", "/Sync/v1/GetSyncStatus"),
        ("post", "/Sync/v1/TurnSyncOn"),
        ("post", "/Sync/v1/TurnSyncOff"),
        ("post", "/Sync/v1/RestartSync"),
    ]:
        assert getattr(client, method)(url).status_code == 403, url
