#!/usr/bin/env python3
"""Validates the serve configs against scenarios/schema/serve.schema.json.

Accepted: scenarios/serve/*.json. Rejected: the bad cases below, each one a
problem the schema can see (the readers reject them too, with the messages
of tests/live/serve_config_test.cc).
Exit status 0 when all agree, 1 otherwise, 77 (skipped) without the Python
jsonschema module (Debian: python3-jsonschema).
Usage: validate_serve_schema.py SOURCE_DIR
"""
import copy
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


serve_schema = load(os.path.join(schema_dir, "serve.schema.json"))
policy_schema = load(os.path.join(schema_dir, "policy.schema.json"))
jsonschema.Draft202012Validator.check_schema(serve_schema)
try:
    from referencing import Registry, Resource  # jsonschema >= 4.18

    registry = Registry().with_resources(
        [("policy.schema.json", Resource.from_contents(policy_schema)),
         ("serve.schema.json", Resource.from_contents(serve_schema))])
    validator = jsonschema.Draft202012Validator(serve_schema, registry=registry)
except ImportError:
    resolver = jsonschema.RefResolver(
        base_uri="", referrer=serve_schema,
        store={"policy.schema.json": policy_schema, "serve.schema.json": serve_schema})
    validator = jsonschema.Draft202012Validator(serve_schema, resolver=resolver)

failures = []
shipped = sorted(glob.glob(os.path.join(root, "scenarios", "serve", "*.json")))
for path in shipped:
    errors = list(validator.iter_errors(load(path)))
    if errors:
        failures.append(f"{os.path.relpath(path, root)}: rejected: {errors[0].message}")

base = load(os.path.join(root, "scenarios", "serve", "odds-sidecar.json"))


def bad(name, change):
    doc = copy.deepcopy(base)
    change(doc)
    if not list(validator.iter_errors(doc)):
        failures.append(f"bad case {name}: accepted, but the reader rejects it")


def odds(doc):
    return doc["upstreams"]["odds"]


bad("unknown key", lambda d: d.update(lissten="x"))
bad("listen without port", lambda d: d.update(listen="8080"))
bad("unitless drain", lambda d: d.update(drain=5))
bad("log level", lambda d: d.update(log_level="loud"))
bad("override typo", lambda d: d.update(overrides={"retry": {"max_attemps": 3}}))
bad("base url scheme", lambda d: odds(d).update(base_url="ftp://x"))
bad("two auth kinds", lambda d: odds(d)["auth"].update(header="X-Key"))
bad("auth without env", lambda d: odds(d)["auth"].pop("env"))
bad("route without slash", lambda d: odds(d)["routes"][0].update(path="v4"))
bad("no routes", lambda d: odds(d).update(routes=[]))
bad("zero connections", lambda d: odds(d).update(max_connections=0))
bad("reserved name", lambda d: d["upstreams"].update(metrics=copy.deepcopy(odds(d))))
bad("route typo", lambda d: odds(d)["routes"][0].update(endpont="x"))

print(f"serve schema: {len(shipped)} shipped configs accepted, 13 bad cases rejected"
      if not failures else "\n".join(failures))
sys.exit(1 if failures else 0)
