#!/usr/bin/env bash
# Jaga's token endpoint and introspection beside oidc-provider (npm 9.x),
# configured the same way, measured by one load generator in one run:
# grants/s, introspections/s, their ratios and each server's resident
# memory after the load. See benches/oauth_grants.rs.
#
#   scripts/bench-oauth.sh [--secs 15] [--rounds 2] [--conns 32]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
(cd "$ROOT/benches/oauth-peer" && npm ci --no-audit --no-fund --loglevel=error)
cd "$ROOT"
cargo bench --bench oauth_grants -- "$@"
