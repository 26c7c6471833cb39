"""pip-audit over the installed environment: fails on any known vulnerability, and is
never green when it could not check: exit 0 only when every package was checked and none
is vulnerable, 1 on a vulnerability or a failure, 2 (``UNCHECKED``, the last line says
so) when no advisory data could be had.

pip-audit skips (and passes) a package whose advisories it cannot fetch. This wrapper
lists every skipped package, and fails on them too when PyPI answers per-version queries
(then a skip means something is wrong) or when PARTSVC_AUDIT_STRICT=1. Where PyPI answers
only project-level queries, as in our CI's network, it says plainly that nothing could be
checked (docs/DECISIONS.md). Extra arguments go to pip-audit (``-r FILE``, ``-s osv``...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import version

PER_VERSION = "https://pypi.org/pypi/pip-audit/{version}/json"
UNCHECKED = 2
"""The exit status when packages went unchecked for want of advisory data: neither a pass
(0) nor a vulnerability (1); ``make lint`` lets it through, saying so."""


def advisories_reachable() -> bool:
    """Whether PyPI answers the per-version query pip-audit's default service needs."""
    url = PER_VERSION.format(version=version("pip-audit"))
    try:
        with urllib.request.urlopen(url, timeout=15) as answer:  # noqa: S310  # nosec B310
            return bool(answer.status == 200)
    except (urllib.error.URLError, TimeoutError):
        return False


def main(extra: list[str]) -> int:
    command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "-f", "json"]
    if not extra:
        command += ["--local", "--skip-editable"]  # the environment, less partsvc itself
    run = subprocess.run(command + extra, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stdout + run.stderr)
        print("pip-audit gave no report: FAILED")
        return 1
    packages = report["dependencies"]
    vulnerable = [p for p in packages if p.get("vulns")]
    skipped = [p for p in packages if "skip_reason" in p]
    for package in vulnerable:
        for vuln in package["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {package['name']} {package['version']}: {vuln['id']} ({fixed})")
    checked = len(packages) - len(skipped)
    print(f"pip-audit checked {checked} of {len(packages)} packages against known advisories")
    if skipped:
        print(f"NOT CHECKED ({len(skipped)}): " + ", ".join(p["name"] for p in skipped))
        print(f"  reason given for {skipped[0]['name']}: {skipped[0]['skip_reason']}")
    if vulnerable:
        print(f"FAILED: {len(vulnerable)} packages with known vulnerabilities")
        return 1
    if not skipped:
        return 0
    if os.environ.get("PARTSVC_AUDIT_STRICT") == "1" or advisories_reachable():
        print("FAILED: the advisory service answers, yet packages went unchecked")
        return 1
    print(
        f"UNCHECKED: {len(skipped)} of {len(packages)} packages could not be checked (no "
        "advisory data reaches this machine); this is not a pass (exit 2; README, "
        "'Two commands')"
    )
    return UNCHECKED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
