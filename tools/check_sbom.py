"""Check a CycloneDX SBOM against uv.lock: it parses as CycloneDX JSON and lists every locked
package at its locked version. `make sbom` runs it; exit 1 names what is missing.

    python tools/check_sbom.py sbom.cdx.json uv.lock
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: Path) -> dict[str, str]:
    """Every package of the lock but the project itself, at its version."""
    packages = tomllib.loads(lock.read_text())["package"]
    return {
        normalise(p["name"]): p["version"]
        for p in packages
        if "version" in p and not {"editable", "virtual"} & set(p.get("source", {}))
    }


def listed(sbom: Path) -> dict[str, set[str]]:
    document = json.loads(sbom.read_text())
    if document.get("bomFormat") != "CycloneDX" or "specVersion" not in document:
        raise ValueError(f"{sbom} is not a CycloneDX document")
    found: dict[str, set[str]] = {}
    for component in document.get("components", []):
        found.setdefault(normalise(component["name"]), set()).add(component.get("version", ""))
    return found


def check(sbom: Path, packages: dict[str, str]) -> list[str]:
    """What of the locked `packages` the SBOM does not list (name==version)."""
    found = listed(sbom)
    return sorted(
        f"{name}=={version}"
        for name, version in packages.items()
        if version not in found.get(name, set())
    )


def main(argv: list[str]) -> int:
    sbom, lock = Path(argv[0]), Path(argv[1])
    try:
        packages = locked(lock)
        missing = check(sbom, packages)
    except (OSError, ValueError, KeyError) as error:
        print(f"{sbom}: {error}", file=sys.stderr)
        return 1
    if missing:
        print(f"{sbom} lacks {len(missing)} locked packages: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{sbom}: CycloneDX, lists all {len(packages)} packages of {lock}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
