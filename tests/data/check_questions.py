#!/usr/bin/env python3
"""Validate the Munich retrieval question sets (stdlib only).

Checks muenchen_dev.jsonl, muenchen_test.jsonl and muenchen_dev_extra.jsonl next to this script:
  * every line is a JSON object with "question" (non-empty string) and
    "service_ids" (list of strings); "aspect" is optional and, if present,
    one of ALLOWED_ASPECTS; no other keys
  * every service id exists in the Munich catalogue and is not an internal
    entry (test/queue/uniform/self-service entries are never valid labels)
  * no duplicate id inside one label list
  * no duplicate question within a file or across both files
    (case-insensitive, whitespace-normalised)
  * minimum counts of answerable and unanswerable questions are met

The catalogue is read from <repo root>/../shared/catalogues/muenchen-2026-06-08/
(the repo root is derived from this file's location); pass --catalogue PATH to
use another services_de.json.

Usage:  python3 tests/data/check_questions.py [--catalogue PATH]
Exit status 0 if everything is valid, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_CATALOGUE = (
    REPO_ROOT.parent / "shared" / "catalogues" / "muenchen-2026-06-08" / "services_de.json"
)

FILES = {
    # name: (minimum answerable, minimum unanswerable)
    "muenchen_dev.jsonl": (150, 25),
    "muenchen_test.jsonl": (150, 40),
    "muenchen_dev_extra.jsonl": (40, 20),
}

ALLOWED_KEYS = {"question", "service_ids", "aspect"}
ALLOWED_ASPECTS = {
    "general",
    "documents",
    "office",
    "fees",
    "processing_time",
    "prerequisites",
    "online",
    "appointment",
}

# Internal entries of the export (test services, queue/kiosk tickets, fire-brigade
# uniform fittings and device training, self-service counters, placeholders).
# They exist in services_de.json but must never be used as a label.
INTERNAL_NAME_PATTERNS = [
    r"^Testleistung$",
    r"^Shortlane\b",
    r"^SB ",
    r"^Spontan",
    r"^Wartenummer",
    r"^Dokumentendruck$",
    r"^Abholung UA35$",
    r"^Beratung allgemein",
    r"^Beratung APV$",
    r"^Vermessungstermin",
    r"^Schulterklappentausch$",
    r"^Größenänderung für Einzelartikel$",
    r"^Helmbeklebung",
    r"^Reparatur und Verschleiß$",
    r"^Medizinproduktunterweisung",
    r"^Waffenbehörde Sonstiges$",
    r"^Waffen- bzw\. Munitionsabgabe$",
    r"^eAT Bestellung",
    r"^Einzug der NWK",
    r"^Auszug der NWK",
    r"^Sicherheitsrechtliche Befragung$",
    r"^Beschäftigungsanfrage",
]
INTERNAL_IDS = {
    "10460108",  # "Parkausweis": self-declared fake entry for the ticket kiosk
}


def norm_question(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def load_catalogue(path: Path) -> tuple[dict[str, str], set[str]]:
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    services = data["data"] if isinstance(data, dict) else data
    names = {str(s["id"]): s.get("name", "") for s in services}
    internal = set(INTERNAL_IDS)
    for sid, name in names.items():
        if any(re.search(p, name.strip()) for p in INTERNAL_NAME_PATTERNS):
            internal.add(sid)
    return names, internal


def check_file(path: Path, names: dict[str, str], internal: set[str], errors: list[str]):
    rows = []
    seen: dict[str, int] = {}
    if not path.exists():
        errors.append(f"{path.name}: file missing")
        return rows
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{path.name}:{lineno}"
            if not raw.strip():
                errors.append(f"{where}: empty line")
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON ({exc})")
                continue
            if not isinstance(obj, dict):
                errors.append(f"{where}: not a JSON object")
                continue
            extra = set(obj) - ALLOWED_KEYS
            if extra:
                errors.append(f"{where}: unknown keys {sorted(extra)}")
            q = obj.get("question")
            ids = obj.get("service_ids")
            if not isinstance(q, str) or not q.strip():
                errors.append(f"{where}: 'question' must be a non-empty string")
                continue
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                errors.append(f"{where}: 'service_ids' must be a list of strings")
                continue
            if "aspect" in obj and obj["aspect"] not in ALLOWED_ASPECTS:
                errors.append(f"{where}: aspect {obj['aspect']!r} not in {sorted(ALLOWED_ASPECTS)}")
            if len(set(ids)) != len(ids):
                errors.append(f"{where}: duplicate id in service_ids {ids}")
            for sid in ids:
                if sid not in names:
                    errors.append(f"{where}: unknown service id {sid}")
                elif sid in internal:
                    errors.append(f"{where}: internal entry used as label: {sid} {names[sid]!r}")
            key = norm_question(q)
            if key in seen:
                errors.append(f"{where}: duplicate question (first at line {seen[key]}): {q!r}")
            else:
                seen[key] = lineno
            rows.append({"file": path.name, "line": lineno, "question": q, "key": key,
                         "service_ids": ids, "aspect": obj.get("aspect")})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE,
                    help="path to services_de.json (default: %(default)s)")
    args = ap.parse_args(argv)

    if not args.catalogue.exists():
        print(f"ERROR: catalogue not found: {args.catalogue}", file=sys.stderr)
        return 1
    names, internal = load_catalogue(args.catalogue)
    errors: list[str] = []
    per_file = {}
    for fname in FILES:
        per_file[fname] = check_file(HERE / fname, names, internal, errors)

    # duplicates across files
    first: dict[str, str] = {}
    for fname, rows in per_file.items():
        for r in rows:
            where = f"{fname}:{r['line']}"
            other = first.get(r["key"])
            if other and not other.startswith(fname + ":"):
                errors.append(f"{where}: question also in {other}: {r['question']!r}")
            first.setdefault(r["key"], where)

    print(f"catalogue: {len(names)} services ({len(internal)} internal entries excluded as labels)")
    all_ids: set[str] = set()
    for fname, rows in per_file.items():
        min_ans, min_none = FILES[fname]
        ans = [r for r in rows if r["service_ids"]]
        none = [r for r in rows if not r["service_ids"]]
        ids = {i for r in ans for i in r["service_ids"]}
        all_ids |= ids
        multi = sum(1 for r in ans if len(r["service_ids"]) > 1)
        aspects = collections.Counter(r["aspect"] or "-" for r in ans)
        print(f"\n{fname}: {len(rows)} questions")
        print(f"  answerable:   {len(ans):4d} (min {min_ans}), {multi} with several correct ids")
        print(f"  unanswerable: {len(none):4d} (min {min_none})")
        print(f"  distinct services labelled: {len(ids)}")
        print("  aspects (answerable): " + ", ".join(f"{k}={v}" for k, v in sorted(aspects.items())))
        if len(ans) < min_ans:
            errors.append(f"{fname}: only {len(ans)} answerable questions (min {min_ans})")
        if len(none) < min_none:
            errors.append(f"{fname}: only {len(none)} unanswerable questions (min {min_none})")

    dev_ids = {i for r in per_file.get("muenchen_dev.jsonl", []) for i in r["service_ids"]}
    test_ids = {i for r in per_file.get("muenchen_test.jsonl", []) for i in r["service_ids"]}
    print(f"\nboth files: {len(all_ids)} distinct services labelled "
          f"({len(dev_ids & test_ids)} in both, {len(dev_ids - test_ids)} dev only, "
          f"{len(test_ids - dev_ids)} test only)")

    if errors:
        print(f"\n{len(errors)} error(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
