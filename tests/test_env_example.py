"""`.env.example` lists every variable the settings read (README and docs/operations.md say
so, and an operator copies it to configure a machine)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_lists_every_variable_the_settings_read():
    settings = (ROOT / "swstudio_site" / "settings.py").read_text()
    read = set(re.findall(r'\b(?:env|Env\(\))(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    assert {"DATABASE_URL", "SWSTUDIO_VAR_DIR", "SANDBOX_SF_CLIENT_SECRET"} <= read  # the pattern
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert sorted(read - listed) == []
