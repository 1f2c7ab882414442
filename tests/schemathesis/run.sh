#!/bin/sh
# Runs schemathesis against a running gosdom: run.sh <base-url> <bearer-token> [extra st args]
# Installs schemathesis into a virtualenv under target/ when it is missing.
# GOSDOM_SCHEMATHESIS_EXAMPLES sets the cases per operation (default 25).
set -eu

base=$1
token=$2
shift 2

root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$(sh "$root/tests/schemathesis/install.sh") || exit 3

# With GOSDOM_ST_PREMISE, GOSDOM_ST_METER and GOSDOM_ST_REQUEST set, path ids are pinned
# to those (tests/schemathesis/known-ids.toml); otherwise they are generated.
config=""
if [ -n "${GOSDOM_ST_PREMISE:-}" ]; then
    config="--config-file=$root/tests/schemathesis/known-ids.toml"
fi

report=${GOSDOM_SCHEMATHESIS_REPORT:-$root/target/schemathesis-report}
# schemathesis keeps a cache (.schemathesis/) in its working directory: keep it in target/.
mkdir -p "$root/target"
cd "$root/target"
# One worker: CPython 3.11 can fail parsing in two threads at once ("AST constructor
# recursion depth mismatch"), an error of the tool, not of the API.
exec "$venv/bin/st" $config run "$base/api/v1/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance \
    --max-examples "${GOSDOM_SCHEMATHESIS_EXAMPLES:-25}" \
    --phases examples,coverage,fuzzing \
    --workers 1 \
    --seed "${GOSDOM_SCHEMATHESIS_SEED:-1}" \
    --generation-database none \
    --no-color \
    --report-dir "$report" \
    "$@"
