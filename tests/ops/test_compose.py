"""docker-compose.yml and the Dockerfile, checked without Docker: services, ports, volumes, healthchecks, that every
ENGRAM_* variable is a real Settings field, and that the image installs what `make install` installs."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from memory_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"qdrant", "redis", "minio", "minio-bucket", "api", "worker", "beat", "flower"}
ENGRAM_SERVICES = ("api", "worker", "beat", "flower")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # anchors and << merges resolved


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command(svc: dict) -> list[str]:
    cmd = svc.get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def published(svc: dict) -> set[int]:
    """Container ports of "host:container" or "ip:host:container" mappings."""
    return {int(str(p).split(":")[-1].split("/")[0]) for p in svc.get("ports", [])}


def mounts(svc: dict) -> dict[str, str]:
    """source -> target of short-syntax volumes."""
    return dict(v.split(":")[:2] for v in svc.get("volumes", []))


def env(svc: dict) -> dict[str, str]:
    e = svc.get("environment", {})
    return dict(x.split("=", 1) for x in e) if isinstance(e, list) else {k: str(v) for k, v in e.items()}


def test_services(services):
    assert set(services) == SERVICES


def test_ports(services):
    assert 6333 in published(services["qdrant"])
    assert 8000 in published(services["api"])
    assert 5555 in published(services["flower"])
    assert not published(services["redis"])  # the broker stays inside the compose network


def test_images_and_commands(services):
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    assert services["redis"]["image"] == "redis:7"
    for name in ENGRAM_SERVICES:
        assert services[name]["build"] == ".", name  # the Dockerfile at the root
    assert command(services["api"])[:2] == ["engram", "serve"] and "0.0.0.0" in command(services["api"])
    assert command(services["worker"])[:2] == ["engram", "worker"]
    assert command(services["beat"]) == ["engram", "beat"]
    flower = command(services["flower"])
    assert flower[:4] == ["celery", "-A", "workers.celery_app", "flower"] and "--port=5555" in flower


def test_redis_appends_only(services):
    cmd = command(services["redis"])
    assert cmd[cmd.index("--appendonly") + 1] == "yes"


def test_named_volumes_declared_and_used(compose, services):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, svc in services.items():
        for source in mounts(svc):
            assert not source.startswith((".", "/")), f"{name}: bind mount {source}; use a named volume"
            assert source in declared, f"{name}: volume {source} is not declared"
            used.add(source)
    assert used == declared
    assert mounts(services["qdrant"]).get("qdrant-data") == "/qdrant/storage"
    assert mounts(services["redis"]).get("redis-data") == "/data"


def test_the_registry_is_object_storage_shared_by_every_engram_service(services):
    """Workers publish where agents read, on any host: the MinIO bucket the one-shot service creates."""
    bucket = services["minio-bucket"]["entrypoint"][-1].split("local/")[-1]
    for name in ENGRAM_SERVICES:
        e = env(services[name])
        s = Settings(data_dir=e["ENGRAM_DATA_DIR"], registry={"url": e["ENGRAM_REGISTRY__URL"],
                                                               "endpoint_url": e["ENGRAM_REGISTRY__ENDPOINT_URL"]})
        assert s.registry.url == f"s3://{bucket}/adapters" and s.registry.endpoint_url == "http://minio:9000", name
        assert "adapters" not in mounts(services[name]), name  # no shared folder any more
    assert services["minio"]["image"].startswith("minio/minio")
    assert mounts(services["minio"]).get("minio-data") == "/data"


def test_healthchecks(services):
    for name, svc in services.items():
        if name == "minio-bucket":
            continue  # a one-shot job: the others wait for it to complete
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
        if test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"{name} healthcheck", "exec")  # the one-liners at least parse
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    # beat's check looks where `engram beat` keeps its schedule (<data dir>/celerybeat-schedule)
    data_dir = env(services["beat"])["ENGRAM_DATA_DIR"]
    assert f"{data_dir}/celerybeat-schedule" in " ".join(services["beat"]["healthcheck"]["test"])


def test_start_order_waits_for_healthy_backends(services):
    for name in ENGRAM_SERVICES:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
        assert services[name]["depends_on"]["minio-bucket"]["condition"] == "service_completed_successfully", name
    assert services["minio-bucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["qdrant"]["condition"] == "service_healthy"


# configuration: only real Settings fields ------------------------------------------------------------------

def settings_path_exists(name: str) -> bool:
    """ENGRAM_QDRANT__URL -> Settings.qdrant (a section) -> QdrantSettings.url. Settings ignores unknown names
    (extra="ignore"), so a misspelt variable would be silently dropped: walk the model instead."""
    model: type[BaseModel] = Settings
    parts = name.removeprefix("ENGRAM_").lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def engram_names(node) -> set[str]:
    """Every ENGRAM_* name in the file: environment keys and ${...} references inside any string."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and k.startswith("ENGRAM_"):
                found.add(k)
            found |= engram_names(v)
    elif isinstance(node, list):
        for v in node:
            found |= engram_names(v)
    elif isinstance(node, str):
        found |= set(re.findall(r"\bENGRAM_[A-Z0-9_]+", node))
    return found


def test_walker_knows_real_names_from_misspelt_ones():
    assert settings_path_exists("ENGRAM_QDRANT__URL") and settings_path_exists("ENGRAM_DATA_DIR")
    assert settings_path_exists("ENGRAM_AUTH__KEYS_FILE")
    assert not settings_path_exists("ENGRAM_QDRANT_URL")  # single underscore: not a section
    assert not settings_path_exists("ENGRAM_REDIS__URL__X") and not settings_path_exists("ENGRAM_BROKER_URL")


def test_every_engram_variable_is_a_settings_field(compose):
    names = engram_names(compose)
    assert "ENGRAM_QDRANT__URL" in names and "ENGRAM_REDIS__URL" in names
    unknown = sorted(n for n in names if not settings_path_exists(n))
    assert not unknown, f"not Settings fields: {unknown}"


@pytest.mark.parametrize("name", ENGRAM_SERVICES)
def test_environment_builds_the_intended_settings(services, name, monkeypatch):
    for k in [k for k in os.environ if k.startswith("ENGRAM_")]:
        monkeypatch.delenv(k)
    for k, v in env(services[name]).items():
        monkeypatch.setenv(k, v)
    s = Settings(_env_file=None)
    assert s.qdrant.url == "http://qdrant:6333"
    assert s.redis.url == "redis://redis:6379/0"
    assert s.redis.embedded_fallback is False  # a container never starts a private Redis


def test_flower_and_worker_share_the_broker(services):
    """The worker's broker is ENGRAM_BROKER_URL if set, else ENGRAM_REDIS__URL (workers/celery_app.py, and
    `engram worker` sets the former from the latter); flower imports the same app module."""
    worker, flower = env(services["worker"]), env(services["flower"])
    assert worker.get("ENGRAM_BROKER_URL") == flower.get("ENGRAM_BROKER_URL")
    assert worker["ENGRAM_REDIS__URL"] == flower["ENGRAM_REDIS__URL"]
    assert "workers.celery_app" in command(services["flower"])


# the image installs what `make install` installs -------------------------------------------------------------

def normalise(cmd: str) -> list[str]:
    """`$(BIN)/pip install -e ".[test]"` and `pip install .` are the same install: drop the venv path, leading
    VAR=value assignments, -e, quotes and extras (the image has no test extras)."""
    words = shlex.split(cmd.replace("$(BIN)/", ""))
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        words.pop(0)
    return [re.sub(r"^\.\[.*\]$", ".", w) for w in words if w not in ("-e", "--editable")]


def makefile_installs() -> list[list[str]]:
    text = (ROOT / "Makefile").read_text()
    recipe = text.split("$(STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    return [normalise(line.strip()) for line in recipe.splitlines() if "pip install" in line]


def dockerfile_installs() -> list[list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [normalise(line.strip()[len("RUN "):]) for line in text.splitlines()
            if line.strip().startswith("RUN ") and "pip install" in line]


def test_dockerfile_installs_like_the_makefile():
    make = makefile_installs()
    assert ["pip", "install", "torch==2.13.0"] in make and ["pip", "install", "."] in make  # parsed
    assert dockerfile_installs() == make  # same commands, same order (torch first)


def test_dockerfile_base_and_entrypoint():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.M)
    assert "ENGRAM_DATA_DIR=/data" in text
    assert (ROOT / ".dockerignore").read_text().count(".env") >= 1  # secrets stay out of the image
