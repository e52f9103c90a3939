#!/bin/sh
# Checks that config-schema/*.schema.json agree with hull's parser on the
# corpus under tests/data/configs: every *-valid file validates, every
# *-invalid file does not, except those listed in schema-exceptions.txt
# (invalid for hull in ways JSON Schema cannot express), which must
# validate.  The C side (tests/test_oci_corpus.c) checks the parser on the
# same files.  Needs Debian's python3-jsonschema (scripts/install-deps).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" - <<'PYEOF'
import json, os, sys
try:
    import jsonschema
except ImportError:
    sys.exit("check-schema: python3-jsonschema is missing (run scripts/install-deps)")

SCHEMAS = "config-schema"
DATA = "tests/data/configs"
store, by_name = {}, {}
for f in sorted(os.listdir(SCHEMAS)):
    if f.endswith(".schema.json"):
        with open(os.path.join(SCHEMAS, f)) as fh:
            s = json.load(fh)
        jsonschema.Draft202012Validator.check_schema(s)
        store[s["$id"]] = s
        by_name[f] = s

def validator(name):
    s = by_name[name]
    resolver = jsonschema.RefResolver(s["$id"], s, store=store)
    return jsonschema.Draft202012Validator(s, resolver=resolver)

exceptions = {}
with open(os.path.join(DATA, "schema-exceptions.txt")) as fh:
    for line in fh:
        if line.strip() and not line.startswith("#"):
            name, why = line.rstrip("\n").split("\t", 1)
            exceptions[name] = why

def load(path):
    # A document Python cannot read as strict JSON is rejected by any
    # schema; strict: no NaN/Infinity, and the bytes must be UTF-8.
    def no_constant(c):
        raise ValueError("non-JSON constant " + c)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return True, json.loads(data.decode("utf-8"), parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError) as e:
        return False, str(e)

GROUPS = [("valid", "invalid", "config.schema.json"),
          ("process-valid", "process-invalid", "process.schema.json"),
          ("resources-valid", "resources-invalid", "resources.schema.json"),
          ("settings-valid", "settings-invalid", "settings.schema.json")]
failures, counts = [], {"valid": 0, "invalid": 0, "exceptions": 0}
seen_exceptions = set()
for good, badd, schema in GROUPS:
    v = validator(schema)
    for kind, d in (("valid", good), ("invalid", badd)):
        files = sorted(f for f in os.listdir(os.path.join(DATA, d)) if f.endswith(".json"))
        if not files:
            failures.append("%s: no corpus files" % d)
        for f in files:
            rel = "%s/%s" % (d, f)
            ok, doc = load(os.path.join(DATA, d, f))
            errors = list(v.iter_errors(doc)) if ok else ["not JSON: " + doc]
            if kind == "valid":
                counts["valid"] += 1
                if errors:
                    failures.append("%s should validate against %s: %s" % (rel, schema, getattr(errors[0], "message", errors[0])))
            elif rel in exceptions:
                counts["exceptions"] += 1
                seen_exceptions.add(rel)
                if errors:
                    failures.append("%s is listed in schema-exceptions.txt but the schema rejects it; remove it from the list" % rel)
            else:
                counts["invalid"] += 1
                if not errors:
                    failures.append("%s should NOT validate against %s" % (rel, schema))
for name in sorted(set(exceptions) - seen_exceptions):
    failures.append("schema-exceptions.txt names %s, which is not an invalid corpus file" % name)
for f in failures:
    print("check-schema: FAIL:", f)
print("check-schema: %d valid, %d invalid, %d schema exceptions checked; %d failures"
      % (counts["valid"], counts["invalid"], counts["exceptions"], len(failures)))
sys.exit(1 if failures else 0)
PYEOF
