"""The layers of docs/architecture.md, checked by reading every module's imports (function-level
imports included: a lazy import is still a dependency)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Package (or module) -> what none of its modules may import.
FORBIDDEN = {
    "syncapp/models": [
        "syncapp.engine",
        "syncapp.salesforce",
        "syncapp.saleswings",
        "syncapp.api",
        "syncapp.admin",
        "sandbox",
    ],
    "syncapp/bulk.py": [
        "syncapp.engine",
        "syncapp.salesforce",
        "syncapp.saleswings",
        "syncapp.models",
        "syncapp.api",
        "syncapp.admin",
        "sandbox",
    ],
    "syncapp/salesforce": [
        "syncapp.models",
        "syncapp.engine",
        "syncapp.api",
        "syncapp.admin",
        "syncapp.saleswings",
        "sandbox",
    ],
    "syncapp/saleswings": [
        "syncapp.models",
        "syncapp.engine",
        "syncapp.api",
        "syncapp.admin",
        "syncapp.salesforce",
        "sandbox",
    ],
    "syncapp/engine": ["syncapp.api", "syncapp.admin", "sandbox"],
    # /metrics, /healthz, /readyz: an entry point beside the API and the admin.
    "syncapp/ops": ["syncapp.api", "syncapp.admin", "syncapp.engine", "sandbox"],
    # Loaded by the LOGGING setting before the apps are ready: the standard library only.
    "syncapp/logcontext.py": ["syncapp", "django", "sandbox"],
    "syncapp": ["sandbox"],
    "sandbox": ["syncapp"],
}


def modules(where):
    path = ROOT / where
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def imported(path):
    """Every module name `path` imports, absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def test_every_package_named_exists():
    for where in FORBIDDEN:
        assert (ROOT / where).exists(), where


@pytest.mark.parametrize("where", FORBIDDEN)
def test_layers_point_down(where):
    broken = []
    for path in modules(where):
        if "migrations" in path.parts:
            continue
        for name in imported(path):
            for banned in FORBIDDEN[where]:
                if name == banned or name.startswith(banned + "."):
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert broken == []


def sync_status_writes(path):
    """Places in `path` that set a prospect's `sync_status`: an assignment to `.sync_status`, or
    `sync_status=` given to a method that writes (update, create...)."""
    writes = {"update", "create", "get_or_create", "update_or_create", "bulk_update"}
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "sync_status":
                    found.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in writes and any(k.arg == "sync_status" for k in node.keywords):
                found.append(node.lineno)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value == "sync_status":
                    found.append(node.lineno)
    return sorted(found)


def test_only_the_models_write_sync_status():
    broken = []
    for path in modules("syncapp"):
        if {"models", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        broken += [f"{path.relative_to(ROOT)}:{line}" for line in sync_status_writes(path)]
    assert broken == []


def test_the_check_sees_a_write(tmp_path):
    # The check itself: it finds each kind of write it looks for, and no read.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "p.sync_status = 1\n"
        "qs.update(sync_status=2)\n"
        "rows = [{'sync_status': 3}]\n"
        "qs.filter(sync_status=4)\n"
    )
    assert sorted(sync_status_writes(sample)) == [1, 2, 3]
