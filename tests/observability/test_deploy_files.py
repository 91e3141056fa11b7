"""deploy/prometheus/: valid YAML, and every metric the rules and docs name is one we export."""

from __future__ import annotations

import re

import yaml

from bot.observability.metrics import ActionMetrics, GatewayMetrics
from tests.conftest import REPO

NAME = re.compile(r"\bbuergerbot_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _exported() -> set[str]:
    names = set()
    for metrics in (GatewayMetrics(), ActionMetrics()):
        for family in metrics.registry.collect():
            names |= {family.name} | {s.name for s in family.samples}
    return names


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_alert_rules_and_docs_name_exported_metrics() -> None:
    rules = yaml.safe_load((REPO / "deploy/prometheus/buergerbot-alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert exprs
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    assert {job["job_name"] for job in config["scrape_configs"]} == {
        "buergerbot-gateway", "buergerbot-actions"}
    exported = {_base(n) for n in _exported()}
    docs = (REPO / "docs/OBSERVABILITY.md").read_text()
    named = {_base(n) for text in [*exprs, docs] for n in NAME.findall(text)}
    assert named - exported == set()
