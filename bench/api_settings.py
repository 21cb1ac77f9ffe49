"""Settings for bench/api_status.py only: the product's settings with the bench URLconf."""

from swstudio_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
