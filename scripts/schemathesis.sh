#!/usr/bin/env bash
# Contract test: a development server against its own /openapi.json, with
# schemathesis and every check (`--checks all`). Exits non-zero on any failure.
#
#   scripts/schemathesis.sh [extra `st run` options, e.g. --max-examples 20]
#
# Needs schemathesis (`pip install schemathesis`; ST=/path/to/st to choose
# one). The server runs from a temporary folder on a free loopback port,
# with rate limits widened so that the run tests the API rather than the
# limiter (429s stay declared and allowed). What schemathesis cannot be told
# by a static document is explained in security-tests/openapi_contract.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ST=${ST:-st}
command -v "$ST" >/dev/null || { echo "schemathesis not found: pip install schemathesis" >&2; exit 2; }

(cd "$ROOT" && cargo build --quiet)
JAGA=$ROOT/target/debug/jaga
# The server takes JAGA_* variables as configuration and refuses unknown
# ones: the caller's (CI's JAGA_REQUIRE_BROWSER_TESTS, say) stay out.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^JAGA_' || true)

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
ORIGIN=http://localhost:$PORT
POLICIES=$(printf '"%s=1000000/1",' signin-ip enrol-ip code-ip counter-ip account-ip recovery-ip \
    signin-account recovery-account verify-account oauth-failure-ip)

cat >"$WORK/jaga.toml" <<EOF
[server]
listen = ["127.0.0.1:$PORT"]
[webauthn]
origins = ["$ORIGIN"]
[ratelimit]
policies = [${POLICIES%,}]
[policies]
dir = "$ROOT/policies"
EOF

# The operations whose answers do not depend on the collection's fields
# also run against the collection defined below (the others would only be
# refused for naming fields it lacks). Seven operations take schema-valid
# requests the server refuses with 400 for reasons no static document can
# know: see security-tests/openapi_contract.md.
cat >"$WORK/st.toml" <<'EOF'
[[operations]]
include-name = ["GET /api/collections/{collection}", "POST /api/collections/{collection}/records/delete",
    "DELETE /api/collections/{collection}/records/{citizen}/{record}"]
parameters = { collection = "antrian.ticket" }

[[operations]]
include-name = ["PUT /api/collections/{collection}", "POST /api/enrol/finish", "POST /api/enrol/code/start",
    "GET /api/collections/{collection}/records/{citizen}/{record}", "PUT /api/collections/{collection}/records/{citizen}/{record}",
    "POST /api/collections/{collection}/records/read", "PUT /api/collections/{collection}/records",
    "POST /oauth/token", "POST /oauth/introspect", "POST /oauth/revoke"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
EOF

cd "$WORK"
"$JAGA" serve --dev --config jaga.toml >server.log 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.2
done

KEY=$("$JAGA" modules add --dev --config jaga.toml --name antrian | grep -o 'jaga_mk_[A-Za-z0-9_-]*')
curl -sf -o /dev/null -X PUT "$BASE/api/collections/antrian.ticket" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"fields":[{"name":"queue_number","classification":"personal"}]}'

"$ST" --config-file st.toml run "$BASE/openapi.json" --checks all \
    -H "Authorization: Bearer $KEY" -H "Origin: $ORIGIN" "$@" || {
    status=$?
    tail -n 20 server.log >&2
    exit "$status"
}
