"""Dependency audit: known vulnerabilities in the exact package set, minus accepted exceptions.

Run by ``scripts/audit.sh`` (``make audit``, which ``make test`` depends on). Audits
requirements/lock.txt + requirements/rasa.txt with pip-audit (OSV, else PyPI's per-version JSON
API) and tests/web with ``npm audit``. Every finding must be listed in
requirements/audit-ignore.toml with a reason and why it does not affect buergerbot (or the
mitigation); any other finding fails. See docs/SECURITY.md.

When no vulnerability service is reachable, ``--offline=warn`` (the default) prints a clear
warning and exits 0, ``--offline=fail`` exits 3. Standard library only (runs with any
Python 3.11), so the tests can import its pure functions.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IGNORE_FILE = REPO / "requirements" / "audit-ignore.toml"
REQUIREMENTS = ("requirements/lock.txt", "requirements/rasa.txt")
NPM_PROJECT = "tests/web"
REQUIRED_KEYS = ("id", "ecosystem", "package", "reason", "impact")
ECOSYSTEMS = ("PyPI", "npm")
OSV_PROBE = "https://api.osv.dev/v1/query"
PYPI_PROBE = "https://pypi.org/pypi/pip/23.2.1/json"  # the URL form pip-audit's PyPI service uses
PROBE_TIMEOUT = 10.0


class AuditConfigError(Exception):
    """The exception list itself is broken."""


@dataclass(frozen=True, slots=True)
class Finding:
    ecosystem: str
    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()

    @property
    def ids(self) -> set[str]:
        return {self.id.upper(), *(a.upper() for a in self.aliases)}


@dataclass(frozen=True, slots=True)
class Accepted:
    id: str
    ecosystem: str
    package: str
    reason: str
    impact: str
    aliases: tuple[str, ...] = ()

    @property
    def ids(self) -> set[str]:
        return {self.id.upper(), *(a.upper() for a in self.aliases)}

    def covers(self, finding: Finding) -> bool:
        return (self.ecosystem == finding.ecosystem
                and canonical(self.package) == canonical(finding.package)
                and bool(self.ids & finding.ids))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_accepted(text: str) -> list[Accepted]:
    """Parse and check the exception list (TOML, ``[[exception]]`` tables)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AuditConfigError(f"audit-ignore.toml: {err}") from err
    unknown = set(data) - {"exception"}
    if unknown:
        raise AuditConfigError(f"audit-ignore.toml: unknown keys {sorted(unknown)}")
    accepted: list[Accepted] = []
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(data.get("exception", []), 1):
        where = f"audit-ignore.toml, exception {number}"
        for key in REQUIRED_KEYS:
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise AuditConfigError(f"{where}: '{key}' fehlt oder ist leer / missing or empty")
        if entry["ecosystem"] not in ECOSYSTEMS:
            raise AuditConfigError(f"{where}: ecosystem must be one of {ECOSYSTEMS}")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise AuditConfigError(f"{where}: aliases must be a list of strings")
        key = (canonical(entry["package"]), entry["id"].upper())
        if key in seen:
            raise AuditConfigError(f"{where}: {entry['id']} for {entry['package']} twice")
        seen.add(key)
        accepted.append(Accepted(entry["id"], entry["ecosystem"], entry["package"],
                                 entry["reason"].strip(), entry["impact"].strip(),
                                 tuple(aliases)))
    return accepted


def classify(findings: Iterable[Finding], accepted: Sequence[Accepted]
             ) -> tuple[list[Finding], list[Finding], list[Accepted]]:
    """(new findings, accepted findings, exceptions that matched nothing)."""
    new: list[Finding] = []
    known: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        hits = [i for i, a in enumerate(accepted) if a.covers(finding)]
        (known if hits else new).append(finding)
        used.update(hits)
    unused = [a for i, a in enumerate(accepted) if i not in used]
    return new, known, unused


def parse_pip_audit(report: dict) -> tuple[list[Finding], list[str]]:
    """Findings and the packages pip-audit skipped (not audited) from its JSON report."""
    findings: list[Finding] = []
    skipped: list[str] = []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(f"{dep.get('name')}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            findings.append(Finding("PyPI", dep["name"], dep.get("version", "?"), vuln["id"],
                                    tuple(vuln.get("aliases", [])),
                                    tuple(vuln.get("fix_versions", []))))
    return findings, skipped


def parse_npm_audit(report: dict) -> list[Finding]:
    """Findings from ``npm audit --json`` (npm 7+); raises ValueError if npm reports an error."""
    if "error" in report or "vulnerabilities" not in report:
        error = report.get("error")
        summary = error.get("summary") if isinstance(error, dict) else error
        raise ValueError(str(summary or "audit endpoint unavailable")[:300])
    findings: list[Finding] = []
    for name, vuln in report["vulnerabilities"].items():
        for via in vuln.get("via", []):
            if isinstance(via, dict):  # a string names the dependency the problem comes through
                url = str(via.get("url", ""))
                advisory = url.rstrip("/").rsplit("/", 1)[-1] or str(via.get("source", "?"))
                findings.append(Finding("npm", name, str(vuln.get("range", "?")), advisory))
    return findings


# -- I/O -----------------------------------------------------------------------------------------
def _reachable(url: str, body: bytes | None = None) -> bool:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pick_service() -> str | None:
    """The first vulnerability source pip-audit can use from here, or None."""
    query = json.dumps({"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "23.2.1"})
    if _reachable(OSV_PROBE, query.encode()):
        return "osv"
    if _reachable(PYPI_PROBE):
        return "pypi"
    return None


def run_pip_audit(pip_audit: str, service: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [pip_audit, "--disable-pip", "--no-deps", "--progress-spinner", "off",
                   "--service", service, "--timeout", "30", "--format", "json",
                   "--output", str(out)]
        for requirements in REQUIREMENTS:
            command += ["--requirement", str(REPO / requirements)]
        # pip-audit exits 1 when it finds anything; the report decides, not the exit code.
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
        if not out.is_file():
            raise RuntimeError(done.stderr.strip()[-800:] or f"pip-audit exit {done.returncode}")
        return json.loads(out.read_text())


def run_npm_audit() -> dict | None:
    project = REPO / NPM_PROJECT
    npm = shutil.which("npm")
    if npm is None or not (project / "package-lock.json").is_file():
        return None
    done = subprocess.run([npm, "audit", "--json", "--package-lock-only", "--prefix",
                           str(project)], check=False, capture_output=True, text=True,
                          timeout=300)
    try:
        return json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        return {"error": done.stderr.strip()[-300:]}


def _say(lines: Iterable[str]) -> None:
    for line in lines:
        print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pip-audit", default="pip-audit", help="the pip-audit executable")
    parser.add_argument("--offline", choices=("warn", "fail"), default="warn",
                        help="what to do when no vulnerability service is reachable")
    parser.add_argument("--service", choices=("osv", "pypi"),
                        help="skip the probe and use this pip-audit service")
    args = parser.parse_args(argv)

    try:
        accepted = load_accepted(IGNORE_FILE.read_text(encoding="utf-8"))
    except (OSError, AuditConfigError) as err:
        print(f"Audit: Ausnahmeliste fehlerhaft / exception list broken: {err}", file=sys.stderr)
        return 1

    findings: list[Finding] = []
    unavailable: list[str] = []
    complete = True

    service = args.service or pick_service()
    if service is None:
        unavailable.append("PyPI (OSV, pypi.org JSON API)")
    else:
        report = run_pip_audit(args.pip_audit, service)
        found, skipped = parse_pip_audit(report)
        findings += found
        audited = len(report.get("dependencies", [])) - len(skipped)
        print(f"pip-audit ({service}): {audited} Pakete geprüft / packages audited, "
              f"{len(skipped)} übersprungen / skipped")
        if skipped:
            complete = False
            _say(f"  nicht geprüft / not audited: {s}" for s in skipped[:10])
            if audited == 0:
                unavailable.append(f"PyPI ({service}: every package was skipped)")

    npm_report = run_npm_audit()
    if npm_report is not None:
        try:
            findings += parse_npm_audit(npm_report)
            print(f"npm audit ({NPM_PROJECT}): geprüft / audited")
        except ValueError as err:
            unavailable.append(f"npm registry ({err})")

    new, known, unused = classify(findings, accepted)
    for finding in known:
        print(f"  akzeptiert / accepted: {finding.package} {finding.version} {finding.id}")
    if unused and not unavailable and complete:
        _say(f"  Hinweis: Ausnahme {a.id} ({a.package}) trifft nicht mehr zu und kann aus "
             f"requirements/audit-ignore.toml entfernt werden / no longer found, remove it"
             for a in unused)
    if new:
        print("\nNEUE Sicherheitslücken in Abhängigkeiten / NEW known vulnerabilities:",
              file=sys.stderr)
        for f in new:
            fix = ", ".join(f.fix_versions) or "-"
            aliases = ", ".join(f.aliases)
            print(f"  {f.ecosystem} {f.package} {f.version}: {f.id} ({aliases}) fix: {fix}",
                  file=sys.stderr)
        print("Aktualisieren Sie das Paket, oder prüfen Sie die Lücke und tragen Sie sie mit "
              "Begründung in requirements/audit-ignore.toml ein (docs/SECURITY.md).\n"
              "Upgrade the package, or review it and record it with a reason in "
              "requirements/audit-ignore.toml.", file=sys.stderr)
        return 1
    if unavailable:
        message = ("Audit: Kein Schwachstellen-Dienst erreichbar, die Prüfung ist UNVOLLSTÄNDIG: "
                   f"{'; '.join(unavailable)}.\n"
                   "Audit: no vulnerability service reachable, the audit is INCOMPLETE. "
                   "Run `make audit` where OSV (api.osv.dev) or pypi.org is reachable; "
                   "`make audit AUDIT_OFFLINE=fail` makes this an error.")
        print(message, file=sys.stderr)
        return 3 if args.offline == "fail" else 0
    print(f"Audit: keine neuen Sicherheitslücken / no new vulnerabilities "
          f"({len(known)} akzeptiert / accepted).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
