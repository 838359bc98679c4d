"""The production stack under docker/, checked without a Docker engine: the gateway's configuration
with the real ``nginx -t``, and the compose file against the environment variables the code reads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import on_ci

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DOCKER = ROOT / "docker"
# Read outside kefu/settings.py: by Rasa's endpoints.yml (${ACTION_ENDPOINT_URL}), by Sanic
# (SANIC_REAL_IP_HEADER) and by the interpreter.
NOT_SETTINGS = {
    "ACTION_ENDPOINT_URL",
    "RASA_TELEMETRY_ENABLED",
    "PYTHONPATH",
    "TF_CPP_MIN_LOG_LEVEL",
    "SANIC_REAL_IP_HEADER",
}
OUR_SERVICES = ("rasa1", "rasa2", "actions", "migrate", "consumer")
# What production refuses to start without, and where it is needed.
REQUIRED = {
    "KEFU_ENV": OUR_SERVICES,
    "DATABASE_URL": OUR_SERVICES,
    "KEFU_ENCRYPTION_KEYS": OUR_SERVICES,
    "CUSTOMER_TOKEN_SECRET": OUR_SERVICES,
    "RABBITMQ_URL": ("rasa1", "rasa2", "consumer"),
    "REDIS_URL": ("rasa1", "rasa2"),
    "ACTION_ENDPOINT_URL": ("rasa1", "rasa2"),
    "DASHBOARD_ADMIN_TOKEN": ("rasa1", "rasa2"),
    "SDK_API_KEYS": ("rasa1", "rasa2"),
    "ACTION_SERVER_SECRET": ("rasa1", "rasa2", "actions"),
    "RASA_INTERFACE": ("rasa1", "rasa2"),
    "ACTION_SERVER_HOST": ("actions",),
}


def settings_variables() -> set[str]:
    """Every variable kefu/settings.py reads (the first argument of its _env/_int/... readers)."""
    source = (ROOT / "kefu" / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\b_[a-z_]+\(\s*\"([A-Z][A-Z0-9_]+)\"", source))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))


def test_every_variable_our_services_get_is_read_by_the_code(compose):
    known = settings_variables() | NOT_SETTINGS
    assert {"DATABASE_URL", "RABBITMQ_URL", "DASHBOARD_ADMIN_TOKEN"} <= known
    for name in OUR_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) - known == set(), f"{name} gets variables nothing reads"


def test_every_required_variable_is_set_where_it_is_needed(compose):
    for variable, services in REQUIRED.items():
        for name in services:
            value = compose["services"][name]["environment"].get(variable)
            assert value, f"{name} lacks {variable}"
    for name in OUR_SERVICES:
        assert compose["services"][name]["environment"]["KEFU_ENV"] == "production"
    assert "${ACTION_ENDPOINT_URL}" in (ROOT / "endpoints.yml").read_text(encoding="utf-8")


def test_secrets_come_from_the_environment_never_from_the_file(compose):
    text = (DOCKER / "docker-compose.yml").read_text(encoding="utf-8")
    secrets = ("KEFU_ENCRYPTION_KEYS", "CUSTOMER_TOKEN_SECRET", "DASHBOARD_ADMIN_TOKEN", "SDK_API_KEYS")
    for secret in (*secrets, "ACTION_SERVER_SECRET"):
        assert re.search(rf"{secret}: \$\{{{secret}:\?", text), secret
    for password in ("MYSQL_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert f"${{{password}:?" in text


def test_the_stack_has_what_production_needs(compose):
    services = compose["services"]
    assert {
        "gateway",
        "rasa1",
        "rasa2",
        "actions",
        "consumer",
        "redis",
        "mariadb",
        "rabbitmq",
        "grafana",
    } <= set(services)
    for name, service in services.items():
        if name != "migrate":
            assert "healthcheck" in service, f"{name} has no health check"
        image = service.get("image", "")
        assert (":" in image and not image.endswith(":latest")) or image.startswith("kefu-"), image
    assert "--appendonly" in services["redis"]["command"]
    assert any(arg.startswith("--log-bin") for arg in services["mariadb"]["command"])
    assert services["consumer"]["command"] == ["python", "-m", "kefu.analytics.consumer"]
    for dockerfile in ("Dockerfile.rasa", "Dockerfile.actions"):
        text = (DOCKER / dockerfile).read_text(encoding="utf-8")
        assert re.search(r"^FROM python:3\.10\.\d+-slim-\w+$", text, re.M), dockerfile
        assert re.search(r"^USER kefu$", text, re.M) and "HEALTHCHECK" in text


def test_the_grafana_dashboard_shows_the_dashboard_figures():
    dashboard = json.loads(
        (DOCKER / "grafana" / "dashboards" / "kefu-analytics.json").read_text(encoding="utf-8")
    )
    sql = " ".join(target["rawSql"] for panel in dashboard["panels"] for target in panel["targets"])
    for figure in (
        "question_asked",
        "faq_hit",
        "fallback",
        "handoff",
        "PERCENTILE_DISC(0.99)",
        "LIMIT 10",
        "intent",
    ):
        assert figure in sql
    assert all(panel["datasource"]["uid"] == "kefu-mariadb" for panel in dashboard["panels"])


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    message = "nginx is not installed; install it with: bash scripts/ensure_nginx.sh"
    if on_ci():
        pytest.fail(f"{message} (CI=true: a missing tool fails the run)", pytrace=False)
    pytest.skip(message)


def test_nginx_accepts_the_gateway_configuration(tmp_path):
    nginx = nginx_binary()
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=kefu.test",
            "-keyout",
            str(certs / "privkey.pem"),
            "-out",
            str(certs / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    config = (DOCKER / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in config and "TLSv1.1" not in config.replace("TLSv1.1 ", "")
    assert re.search(r"client_max_body_size \d+k;", config)
    assert "limit_req zone=chat" in config
    # Outside Docker the service names do not resolve, and the certificates live in the test's folder.
    config = re.sub(r"\b(rasa\d|grafana):(\d+)", r"127.0.0.1:\2", config)
    config = config.replace("/etc/nginx/certs", str(certs))
    (tmp_path / "nginx.conf").write_text(config, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/logs/error.log;",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_rasa_servers_take_the_client_address_from_the_gateway_and_are_not_published(compose):
    conf = (DOCKER / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Real-IP $remote_addr;" in conf
    for name in ("rasa1", "rasa2"):
        service = compose["services"][name]
        assert service["environment"]["SANIC_REAL_IP_HEADER"] == "X-Real-IP"
        assert "ports" not in service  # only the gateway reaches them, so the header can't be forged


def test_only_the_gateway_publishes_ports(compose):
    # Issue 13, finding 3: the action server must stay on the compose network (it trusts the secret,
    # not the network, but nobody outside should reach it at all).
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"gateway"}
    assert "expose" not in compose["services"]["actions"]


def test_the_images_default_to_production_and_run_the_guarded_action_server():
    actions = (DOCKER / "Dockerfile.actions").read_text(encoding="utf-8")
    rasa = (DOCKER / "Dockerfile.rasa").read_text(encoding="utf-8")
    assert re.search(r"^ENV .*KEFU_ENV=production", actions, re.M)
    assert re.search(r"^ENV .*KEFU_ENV=production", rasa, re.M)
    assert '"-m", "kefu.action_server"' in actions and "rasa_sdk" not in actions


def test_the_gateway_routes_the_admin_api_and_the_console():
    conf = (DOCKER / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    for prefix in ("/admin/api/", "/console/"):
        block = re.search(rf"location {re.escape(prefix)} \{{(.*?)\}}", conf, re.S)
        assert block and "proxy_pass http://rasa;" in block.group(1), prefix
