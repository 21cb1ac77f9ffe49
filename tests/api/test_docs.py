"""The docs page works offline: every asset it loads is served by this app."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_only_local_assets(anon_client):
    response = anon_client.get("/Sync/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    # The initializer is a script of its own (no inline script under the CSP).
    assert '<script src="/Sync/v1/docs?script="' in html
    script = anon_client.get("/Sync/v1/docs?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/Sync/v1/schema" in script.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    urls += re.findall(r'"(/static/[^"]+)"', html)
    assert urls
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    static = {u for u in urls if u.startswith("/static/")}
    assert static
    for url in static:
        assert finders.find(url.removeprefix("/static/")), url


def test_the_api_root_answers_with_its_endpoints_and_docs(anon_client):
    response = anon_client.get("/Sync/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"] == "http://testserver/Sync/v1/docs"
    assert body["endpoints"]["GetSyncStatus"] == "http://testserver/Sync/v1/GetSyncStatus"


def test_the_browsable_apis_breadcrumb_leads_to_a_page_not_a_404(viewer_user):
    from django.test import Client

    client = Client()
    client.force_login(viewer_user)
    page = client.get("/Sync/v1/GetSyncStatus", HTTP_ACCEPT="text/html").content.decode()
    crumbs = re.search(r'<ul class="breadcrumb">(.*?)</ul>', page, re.S).group(1)
    root = re.findall(r'href="([^"]+)"', crumbs)[0]
    assert root == "/Sync/v1/"
    html = client.get(root, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert "Not Found" not in html.content.decode()
    assert "/Sync/v1/docs" in html.content.decode()
