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
