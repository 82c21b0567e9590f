#!/usr/bin/env bash
# THE test command: database servers for the tests (scripts/services.sh), formatting, lints, every
# Rust test (unit, integration, doc, examples; SQLite, PostgreSQL and MariaDB), the C ABI's
# examples under valgrind (scripts/test-c.sh), the Node package's build, tests and packed tarball
# (scripts/test-node.sh), the plan builder page in headless Chromium (scripts/test-web.sh), then
# the scenario scorer against the debug binary that `cargo test`
# just built. Run from anywhere; it works from the repository root. Everything is built once, in
# debug, except the npm package, which is tested as users build it: `npm run build`, in release
# (so the dependencies are compiled a second time, in the release profile, in the same target dir).
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# .cargo/config.toml sets the build target, so binaries live under target/<triple>/.
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/x86_64-unknown-linux-gnu/debug/ai-billing"

current="setup"
run() {
    current="$*"
    echo "+ $*" >&2
    "$@"
}
trap 'echo "== test.sh FAILED at: $current ==" >&2' ERR

# PostgreSQL and MariaDB for the store and usage-template tests: the project's own servers where
# they listen on loopback, else throwaway ones installed and started here (stopped on exit).
# shellcheck source=scripts/services.sh
source scripts/services.sh

run cargo fmt --all --check
run cargo clippy --workspace --all-targets -- -D warnings
# Plain `cargo test` rather than nextest: it also runs the doctests and the examples declared
# with `harness = false` (examples/preview.rs), which nextest cannot list.
run cargo test --workspace --no-fail-fast

# The C library and its examples (gcc -Wall -Wextra -Werror, valgrind), on the debug build.
run bash scripts/test-c.sh
# The npm package: its release build (napi), the drift check of its generated files, `node --test`,
# and `npm pack` installed into an empty folder running examples/node.
run bash scripts/test-node.sh
# The AI plan builder page in headless Chromium, on the addon test-node.sh just built.
run bash scripts/test-web.sh

# The scorer runs the binary that `cargo test` just built (the CLI's integration tests run it).
# Building it again would rebuild dependencies without the dev-dependencies' features, so it is
# built here only when it is missing.
[ -x "$bin" ] || run cargo build -p ai-billing-cli --bin ai-billing

if [ -d ../shared/eval ]; then
    run python3 ../shared/eval/run.py ../shared/eval/public --cmd "$bin" --min-correct 1.0
else
    run python3 scripts/score.py tests/scenarios/public --cmd "$bin" --min-correct 1.0
fi

echo "== all tests passed: fmt, clippy, cargo tests, C ABI under valgrind, Node package, plan builder in Chromium, public scenarios =="
