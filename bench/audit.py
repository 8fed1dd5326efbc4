"""Dependency audit: `python -m bench.audit` (run by `make test` after the suite).

Runs `pip-audit -r requirements.txt` against the pinned requirements (no resolution, no pip
install: every line is pinned) with a timeout. It never fails the build: offline, a timeout or
an error of the tool give a one-line report and exit 0; known vulnerabilities are listed under
a clear "VULNERABILITIES FOUND" line, and the exit status is still 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "requirements.txt"
TIMEOUT_SECONDS = 60


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # pip-audit's tracebacks end with the useful line
    return (lines[-1] if lines else "no output")[:200]


def audit() -> int:
    if not REQUIREMENTS.is_file():
        print(f"pip-audit: skipped ({REQUIREMENTS.name} not found)")
        return 0
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(REQUIREMENTS),
        "--no-deps",
        "--disable-pip",
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "15",
    ]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, cwd=REPO, check=False
        )
    except FileNotFoundError:
        print("pip-audit: skipped (pip_audit is not installed in this environment)")
        return 0
    except subprocess.TimeoutExpired:
        print(f"pip-audit: skipped (no answer within {TIMEOUT_SECONDS} s; offline?)")
        return 0
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        problem = _first_line(proc.stderr or proc.stdout)
        if "No module named pip_audit" in (proc.stderr or ""):
            print("pip-audit: skipped (pip_audit is not installed in this environment)")
        else:
            print(f"pip-audit: skipped (offline or the tool failed: {problem})")
        return 0
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if dependencies and len(skipped) == len(dependencies):
        reason = skipped[0]["skip_reason"]
        print(
            f"pip-audit: skipped (none of the {len(dependencies)} requirements could be checked; "
            f"offline or the vulnerability service is unreachable: {reason[:120]})"
        )
        return 0
    if not vulnerable:
        extra = f", {len(skipped)} not checked" if skipped else ""
        print(
            f"pip-audit: no known vulnerabilities in {len(dependencies)} pinned requirements{extra}."
        )
        return 0
    count = sum(len(d["vulns"]) for d in vulnerable)
    print(
        f"pip-audit: VULNERABILITIES FOUND: {count} in {len(vulnerable)} of "
        f"{len(dependencies)} pinned requirements:"
    )
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            print(
                f"  {dep['name']}=={dep['version']}: {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''}; fixed in: {fixes}"
            )
    print("Update the pins in requirements.txt (the build does not fail on this).")
    return 0


def main() -> int:
    try:
        return audit()
    except Exception as error:  # noqa: BLE001 - the audit must never break `make test`
        print(f"pip-audit: skipped (unexpected error: {error!r})"[:300])
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
