"""The sample Grafana dashboard and the alert rules ask only for series Whimsy exports."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from whimsy_project import metrics  # noqa: F401 - defines the series

DOCS = Path(__file__).resolve().parents[2] / "docs"


def exported() -> set[str]:
    """Every sample name the registry would serve (metric_bucket, _count, _sum, _total, ...)."""
    names = {"whimsy_ready"}  # made per scrape from the readiness checks
    for sample_names in REGISTRY._collector_to_names.values():
        names |= set(sample_names)
    return names


def asked_for(text: str) -> set[str]:
    return set(re.findall(r"\bwhimsy_[a-z_]+", text))


def test_the_dashboard_queries_exported_series():
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    queries = " ".join(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])

    assert asked_for(queries)
    assert asked_for(queries) <= exported(), asked_for(queries) - exported()


def test_the_alert_rules_use_exported_series_and_cover_what_hurts_people():
    rules = yaml.safe_load((DOCS / "prometheus-rules.yml").read_text())["groups"][0]["rules"]
    expressions = " ".join(rule["expr"] for rule in rules)

    assert asked_for(expressions) <= exported(), asked_for(expressions) - exported()
    for series in ("whimsy_time_to_match_seconds_bucket", "whimsy_partners_lost_total",
                   "whimsy_delivery_failures_total", "whimsy_ready"):
        assert series in expressions, series
