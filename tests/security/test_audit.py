"""The dependency audit's decisions (scripts/audit.py) and the exception list it uses."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("buergerbot_audit", REPO / "scripts" / "audit.py")
assert _spec and _spec.loader
audit = importlib.util.module_from_spec(_spec)
sys.modules["buergerbot_audit"] = audit
_spec.loader.exec_module(audit)

ENTRY = '''
[[exception]]
id = "GHSA-aaaa-bbbb-cccc"
aliases = ["CVE-2099-1"]
ecosystem = "PyPI"
package = "Some_Package"
reason = "r"
impact = "i"
'''


def test_the_exception_list_is_valid_and_explained() -> None:
    accepted = audit.load_accepted(audit.IGNORE_FILE.read_text(encoding="utf-8"))
    assert accepted
    for entry in accepted:
        assert len(entry.reason) > 20 and len(entry.impact) > 20, entry.id


def test_new_findings_fail_and_accepted_ones_match_by_id_or_alias() -> None:
    accepted = audit.load_accepted(ENTRY)
    by_alias = audit.Finding("PyPI", "some-package", "1.0", "PYSEC-2099-7", ("CVE-2099-1",))
    other_package = audit.Finding("PyPI", "other", "1.0", "GHSA-aaaa-bbbb-cccc")
    unknown = audit.Finding("PyPI", "some-package", "1.0", "GHSA-zzzz-zzzz-zzzz")
    new, known, unused = audit.classify([by_alias, other_package, unknown], accepted)
    assert known == [by_alias]
    assert new == [other_package, unknown]
    assert unused == []
    assert audit.classify([], accepted)[2] == accepted  # reported as removable


@pytest.mark.parametrize("broken", [
    ENTRY.replace('impact = "i"', ""),  # no assessment
    ENTRY.replace('reason = "r"', 'reason = ""'),
    ENTRY.replace('"PyPI"', '"maven"'),
    ENTRY + ENTRY,  # twice
    "[[exception]]\nid = ",  # not TOML
    "ignore = []",
])
def test_a_broken_exception_list_is_an_error(broken: str) -> None:
    with pytest.raises(audit.AuditConfigError):
        audit.load_accepted(broken)


def test_skipped_packages_are_not_counted_as_audited() -> None:
    report = {"dependencies": [
        {"name": "aiohttp", "skip_reason": "Dependency not found on PyPI"},
        {"name": "jinja2", "version": "3.1.2", "vulns": [
            {"id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"],
             "fix_versions": ["3.1.3"]}]}]}
    findings, skipped = audit.parse_pip_audit(report)
    assert [f.id for f in findings] == ["GHSA-h5c8-rqwp-cp95"]
    assert skipped and "aiohttp" in skipped[0]


def test_npm_errors_mean_unavailable_not_clean() -> None:
    with pytest.raises(ValueError):
        audit.parse_npm_audit({"error": {"summary": "405 Method Not Allowed"}})
    findings = audit.parse_npm_audit({"vulnerabilities": {"axe-core": {
        "range": "<4.0", "via": [{"url": "https://github.com/advisories/GHSA-xxxx-yyyy-zzzz"}]}}})
    assert [(f.package, f.id) for f in findings] == [("axe-core", "GHSA-xxxx-yyyy-zzzz")]
