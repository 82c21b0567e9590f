#!/usr/bin/env bash
# The AI plan builder page (examples/plan-builder) end to end in headless Chromium: installs
# Debian's chromium when /usr/bin/chromium is missing (never a browser downloaded by a tool),
# `npm ci` in examples/plan-builder (playwright-core, and @pelcro/ai-billing linked from
# bindings-node/), then its `node --test` suite, which also writes docs/plan-builder.png.
# Called by scripts/test.sh after scripts/test-node.sh, so bindings-node/*.node exists; runs on
# its own from anywhere too, once the addon is built (`cd bindings-node && npm ci && npm run build`).
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

current="setup"
run() {
    current="$*"
    echo "+ $*" >&2
    "$@"
}
trap 'echo "== test-web.sh FAILED at: $current ==" >&2' ERR

if ! compgen -G "bindings-node/*.node" >/dev/null; then
    echo "test-web.sh: bindings-node/*.node is missing: build the addon first (scripts/test-node.sh, or cd bindings-node && npm ci && npm run build)" >&2
    exit 1
fi

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    run $sudo apt-get install -y -qq chromium >/dev/null ||
        { run $sudo apt-get update -qq && run $sudo apt-get install -y -qq chromium >/dev/null; }
fi

cd examples/plan-builder
run npm ci --no-audit --no-fund --loglevel=error
run npm test
