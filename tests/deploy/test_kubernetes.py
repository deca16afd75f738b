"""The Kubernetes files, checked without a cluster: the Airflow chart's values and the
service's Deployment and Service agree with each other, with the image and with the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from serving.app import create_app
from serving.settings import ServiceSettings
from tests.deploy.test_compose import variables_read_by_code

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "kubernetes"
VALUES: dict[str, Any] = yaml.safe_load((K8S / "airflow-values.yaml").read_text())
DOCS = [d for d in yaml.safe_load_all((K8S / "platform.yaml").read_text()) if d]
SECRETS = [d for d in yaml.safe_load_all((K8S / "secrets.example.yaml").read_text()) if d]
# read by boto3 / Airflow rather than by our code, and set on purpose
STANDARD = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def _one(kind: str, docs: list[dict[str, Any]] = DOCS) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


def _secret(name: str) -> dict[str, str]:
    (found,) = [d for d in SECRETS if d["metadata"]["name"] == name]
    return dict(found["stringData"])


def test_the_service_deployment_and_service_fit_together() -> None:
    deployment, service = _one("Deployment"), _one("Service")
    template = deployment["spec"]["template"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items()
        <= template["metadata"]["labels"].items()
    )
    assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    (container,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in ports and ports["http"] == 8000
    assert container["command"][-1] == "8000"
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # probes hit routes the app really has
    paths = {route.path for route in create_app(ServiceSettings(load_models=False)).routes}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] in paths, probe
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] in paths
    assert annotations["prometheus.io/port"] == str(ports["http"])


def test_pods_run_as_the_images_user_and_hold_no_secret() -> None:
    uid = int(re.search(r"--uid (\d+)", (ROOT / "docker" / "Dockerfile").read_text())[1])  # type: ignore[index]
    pod = _one("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == uid and pod["securityContext"]["runAsNonRoot"]
    assert VALUES["uid"] == uid and VALUES["securityContexts"]["pod"]["runAsUser"] == uid
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert "env" not in container  # everything comes from the ConfigMap and the Secret
    config = _one("ConfigMap")["data"]
    assert not [k for k in config if re.search(r"SECRET|PASSWORD|KEY|DATABASE_URL", k)]
    for secret in SECRETS:
        values = secret["stringData"].values()
        assert all(v == "" or "change-me" in v for v in values), secret["metadata"]["name"]


def test_every_variable_set_is_one_the_code_reads_and_the_essentials_are_set() -> None:
    read = variables_read_by_code() | STANDARD
    config, secret = _one("ConfigMap")["data"], _secret("f1-platform-secrets")
    given = set(config) | set(secret)
    assert given <= read, sorted(given - read)  # no typo can hide here
    essentials = {"F1_ENV", "F1_DATABASE_URL", "F1_JWT_SECRET", "MLFLOW_TRACKING_URI",
                  "REDIS_URL", "F1_ARTIFACTS_URL"}  # fmt: skip
    assert essentials <= given
    assert config["F1_ENV"] == "production" and config["F1_ARTIFACTS_URL"].startswith("s3://")
    refs = _one("Deployment")["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {r.get("configMapRef", r.get("secretRef"))["name"] for r in refs} == {
        _one("ConfigMap")["metadata"]["name"],
        "f1-platform-secrets",
    }


def test_airflow_chart_values_use_our_image_stores_and_secrets() -> None:
    image = _one("Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
    airflow = VALUES["images"]["airflow"]
    assert f"{airflow['repository']}:{airflow['tag']}" == image
    assert VALUES["defaultAirflowRepository"] == airflow["repository"]
    lock = (ROOT / "uv.lock").read_text()
    locked = re.search(r'name = "apache-airflow"\nversion = "([^"]+)"', lock)
    assert locked and VALUES["airflowVersion"] == locked[1]
    assert not VALUES["postgresql"]["enabled"] and not VALUES["redis"]["enabled"]
    keys = _secret("f1-airflow")
    assert VALUES["data"]["metadataSecretName"] == "f1-airflow" and "connection" in keys
    for value, key in (
        ("fernetKeySecretName", "fernet-key"),
        ("apiSecretKeySecretName", "api-secret-key"),
        ("jwtSecretName", "jwt-secret"),
    ):
        assert VALUES[value] == "f1-airflow" and key in keys
    refs = yaml.safe_load(VALUES["extraEnvFrom"])
    assert {r.get("configMapRef", r.get("secretRef"))["name"] for r in refs} == {
        "f1-platform-config",
        "f1-platform-secrets",
    }
    assert "f1 db upgrade" in VALUES["migrateDatabaseJob"]["args"][-1]
    dags = VALUES["config"]["core"]["dags_folder"]
    assert dags == "/app/dags" and (ROOT / "dags" / "f1_ingest.py").exists()  # COPY . /app
    assert not VALUES["dags"]["gitSync"]["enabled"]
    assert VALUES["config"]["logging"]["remote_base_log_folder"].startswith("s3://")
    # nothing shared on a volume: every pod reads the builds and reports from S3
    assert not [d for d in DOCS if d["kind"] == "PersistentVolumeClaim"]
    assert "extraVolumes" not in VALUES["scheduler"]
    assert VALUES["workers"]["persistence"]["enabled"] is False


def test_celery_workers_and_the_service_scale_on_cpu() -> None:
    assert VALUES["executor"] == "CeleryExecutor"
    broker = _secret(VALUES["data"]["brokerUrlSecretName"])
    assert broker["connection"].startswith("redis://")
    workers = VALUES["workers"]
    hpa = workers["hpa"]
    assert hpa["enabled"] and 2 <= hpa["minReplicaCount"] < hpa["maxReplicaCount"]
    assert workers["replicas"] == hpa["minReplicaCount"]
    assert workers["resources"]["requests"]["cpu"]  # utilisation is relative to the request
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"

    deployment, autoscaler = _one("Deployment"), _one("HorizontalPodAutoscaler")
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert autoscaler["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]
    (metric,) = autoscaler["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"]
