#!/usr/bin/env python3
"""Validates files against scenarios/schema/*.schema.json (JSON Schema 2020-12).

Accepted: every scenarios/*.json, scenarios/policies/*.json and the good test
inputs. Rejected: the bad-input cases a schema can see (unknown keys, enums,
types, unit-less durations), scenario and preset alike.

Exit status 0 when all agree, 1 otherwise, 77 (skipped) when the Python
jsonschema module is missing (Debian: python3-jsonschema).
Usage: validate_schemas.py SOURCE_DIR
"""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("skipped: the Python jsonschema module is not installed")
    sys.exit(77)

root = sys.argv[1]
schema_dir = os.path.join(root, "scenarios", "schema")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


policy_schema = load(os.path.join(schema_dir, "policy.schema.json"))
scenario_schema = load(os.path.join(schema_dir, "scenario.schema.json"))
jsonschema.Draft202012Validator.check_schema(policy_schema)
jsonschema.Draft202012Validator.check_schema(scenario_schema)


def validator(schema):
    # The scenario schema refers to "policy.schema.json#/$defs/overrides".
    try:
        from referencing import Registry, Resource  # jsonschema >= 4.18

        registry = Registry().with_resources(
            [("policy.schema.json", Resource.from_contents(policy_schema)),
             ("scenario.schema.json", Resource.from_contents(scenario_schema))])
        return jsonschema.Draft202012Validator(schema, registry=registry)
    except ImportError:
        # Older jsonschema (Debian's 4.10) joins a relative $ref to an empty base as
        # "/policy.schema.json", which no store key matches: give the files an absolute base.
        base = "https://orchsim.invalid/schema/"
        resolver = jsonschema.RefResolver(
            base_uri=base, referrer=schema,
            store={base + "policy.schema.json": policy_schema,
                   base + "scenario.schema.json": scenario_schema})
        return jsonschema.Draft202012Validator(schema, resolver=resolver)


scenario_validator = validator(scenario_schema)
policy_validator = validator(policy_schema)
failures = []


def check(path, validator, want_valid):
    errors = list(validator.iter_errors(load(path)))
    rel = os.path.relpath(path, root)
    if want_valid and errors:
        failures.append(f"{rel}: rejected: {errors[0].message} at /"
                        + "/".join(str(p) for p in errors[0].absolute_path))
    elif not want_valid and not errors:
        failures.append(f"{rel}: accepted, but the readers reject it")
    return 1


counts = {"accepted": 0, "rejected": 0}
for path in sorted(glob.glob(os.path.join(root, "scenarios", "*.json"))):
    counts["accepted"] += check(path, scenario_validator, True)
for path in sorted(glob.glob(os.path.join(root, "scenarios", "policies", "*.json"))
                   + glob.glob(os.path.join(root, "tests/engine/scenario/good/policies/*.json"))
                   + [os.path.join(root, "tests/engine/scenario/bad/policies/valid.json"),
                      os.path.join(root, "tests/engine/scenario/bad/policies/invalid-retry.json")]):
    counts["accepted"] += check(path, policy_validator, True)

bad = os.path.join(root, "tests", "engine", "scenario", "bad")
schema_visible = ("unknown-key-", "enum-", "type-", "duration-unitless-", "duration-unknown-unit",
                  "duration-negative-", "duration-number-in-array", "instant-number",
                  "instant-space-separator", "range-number-", "range-override-", "range-status-",
                  "variants-", "demand-missing", "demand-no-pattern", "demand-two-patterns",
                  "schedule-csv-and-synthetic", "schedule-neither", "name-missing",
                  "trace-with-request", "trace-rate-zero")
for path in sorted(glob.glob(os.path.join(bad, "*.json"))):
    if os.path.basename(path).startswith(schema_visible):
        counts["rejected"] += check(path, scenario_validator, False)
for name in ("unknown-top-key", "unknown-retry-key", "wrong-type", "unitless-duration",
             "bad-backoff", "array"):
    counts["rejected"] += check(os.path.join(bad, "policies", name + ".json"), policy_validator,
                                False)

for failure in failures:
    print(failure)
print(f"{counts['accepted']} files to accept, {counts['rejected']} to reject, "
      f"{len(failures)} disagreements")
sys.exit(1 if failures else 0)
