#!/usr/bin/env bash
# The first minute: three AI plans in plain language, six months of deliveries in an embedded
# SQLite file, and their invoices. No key, no server. Extra arguments go to `ai-billing demo`
# (for example `--db /tmp/demo.db` or `--json`).
#
# Built on the dev profile, not --release: the demo bills in a fraction of a second either way,
# a cold dev build is the faster one (no optimisation, no debug info for dependencies: see
# [profile.dev.package."*"] in Cargo.toml), and its artifacts are the ones `cargo test` and
# scripts/test.sh use, so the demo's build is not thrown away.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --quiet -p ai-billing-cli -- demo "$@"
