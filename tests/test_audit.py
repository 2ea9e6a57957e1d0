"""The dependency audit gate (.ci/audit.py): what fails the build and what does not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _judge(tmp_path, dependencies):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}), "utf-8")
    return subprocess.run([sys.executable, str(REPO / ".ci" / "audit.py"), "requirements.lock",
                           "--report", str(report)], capture_output=True, text=True)


CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}


@pytest.mark.parametrize("dependencies, status, message", [
    ([CLEAN], 0, "no known vulnerability with a fix"),
    ([CLEAN, {"name": "oldlib", "version": "1.0", "vulns": [
        {"id": "GHSA-0000", "fix_versions": []}]}], 0, "oldlib 1.0: GHSA-0000 (no fixed"),
    ([CLEAN, {"name": "oldlib", "version": "1.0", "vulns": [
        {"id": "PYSEC-1", "fix_versions": ["1.2"]}]}], 1, "PYSEC-1 (fixed in 1.2)"),
    ([CLEAN, {"name": "gone", "skip_reason": "Dependency not found on PyPI"}], 2,
     "could not audit 1 of 2"),
], ids=["clean", "no fix yet", "fix available", "not audited"])
def test_the_audit_fails_on_fixable_vulnerabilities_and_on_no_audit(
        tmp_path, dependencies, status, message):
    result = _judge(tmp_path, dependencies)
    assert result.returncode == status, result.stderr
    assert message in result.stderr
