#!/usr/bin/env bash
# The first minute: three AI plans in plain language, six months of deliveries in an embedded
# SQLite file, and their invoices. No key, no server. Extra arguments go to `ai-billing demo`
# (for example `--db /tmp/demo.db` or `--json`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --quiet --release -p ai-billing-cli -- demo "$@"
