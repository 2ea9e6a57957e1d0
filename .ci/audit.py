"""Audit the locked dependencies with pip-audit; fail on known vulnerabilities with a fix.

Exit status: 0 when no locked package has a known vulnerability that a newer version
fixes (vulnerabilities without a fix are listed but pass: there is nothing to bump to);
1 when some have a fix (bump them in requirements.lock); 2 when the audit could not be
done (the vulnerability service is unreachable or does not know a package): a check that
did not run is not a pass.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def run_pip_audit(lock: Path) -> dict:
    """Run pip-audit over the exact versions of `lock` and return its JSON report."""
    command = [sys.executable, "-m", "pip_audit", "-r", str(lock), "--no-deps",
               "--disable-pip", "--progress-spinner", "off", "--format", "json"]
    proc = subprocess.run(command, capture_output=True, text=True)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit: pip-audit failed (exit {proc.returncode}): {last[:300]}",
              file=sys.stderr)
        sys.exit(2)


def judge(report: dict) -> int:
    """Print what the report says and return the exit status."""
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    fixable, unfixed = [], []
    for dep in deps:
        for vuln in dep.get("vulns", []):
            line = f"{dep['name']} {dep.get('version', '?')}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed version yet)")
    for line in unfixed:
        print(f"audit: warning: {line}", file=sys.stderr)
    for line in fixable:
        print(f"audit: {line}", file=sys.stderr)
    if fixable:
        print(f"audit: {len(fixable)} known vulnerabilities have a fix: bump those packages "
              "in requirements.lock", file=sys.stderr)
        return 1
    if skipped:
        print(f"audit: could not audit {len(skipped)} of {len(deps)} locked packages: does "
              "https://pypi.org/pypi/<name>/<version>/json answer here? First: "
              f"{skipped[0]['skip_reason']}", file=sys.stderr)
        return 2
    print(f"audit: {len(deps)} locked packages, no known vulnerability with a fix"
          + (f" ({len(unfixed)} without one)" if unfixed else ""), file=sys.stderr)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="requirements.lock")
    parser.add_argument("--report", type=Path, help="judge this pip-audit JSON report "
                        "instead of running pip-audit")
    args = parser.parse_args()
    report = (json.loads(args.report.read_text("utf-8")) if args.report
              else run_pip_audit(args.lock))
    sys.exit(judge(report))


if __name__ == "__main__":
    main()
