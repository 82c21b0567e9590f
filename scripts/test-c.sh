#!/usr/bin/env bash
# The C ABI from C: builds the ai-billing-c libraries (debug), compiles the C examples against the
# committed header with -std=c11 -Wall -Wextra -Werror -pedantic, links them statically and
# dynamically, runs them, and runs the static ones under valgrind (no error, no leak: definite,
# indirect and possible all fail, but for the allocations named in examples/c/valgrind.supp).
# The header's drift is checked by `cargo test` (bindings-c/tests/header.rs).
# Called by scripts/test.sh after `cargo test --workspace`; runs on its own from anywhere too.
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# .cargo/config.toml sets the build target, so the libraries land under target/<triple>/debug/.
target_dir="${CARGO_TARGET_DIR:-target}"
lib_dir="$target_dir/x86_64-unknown-linux-gnu/debug"
out="$target_dir/c-examples"

current="setup"
run() {
    current="$*"
    echo "+ $*" >&2
    "$@"
}
trap 'echo "== test-c.sh FAILED at: $current ==" >&2' ERR

if ! command -v valgrind >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    run $sudo apt-get install -y valgrind ||
        { run $sudo apt-get update && run $sudo apt-get install -y valgrind; }
fi

# `cargo test` builds only the rlib: the cdylib and staticlib are built here. With the workspace's
# targets (tests and examples included) the dependencies keep the features `cargo test --workspace`
# compiled them with, so only this crate is compiled again (`cargo build -p ai-billing-c` alone
# would rebuild sqlx, tokio and the core with fewer features: 1.5 minutes more in CI).
run cargo build --workspace --all-targets
run mkdir -p "$out"

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Ibindings-c/include)
# What the staticlib needs from the system (`cargo rustc -p ai-billing-c --crate-type staticlib
# -- --print native-static-libs`).
static_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
for example in preview_and_renew bad_inputs; do
    run gcc "${cflags[@]}" "examples/c/$example.c" "$lib_dir/libai_billing_c.a" \
        "${static_libs[@]}" -o "$out/$example"
    run gcc "${cflags[@]}" "examples/c/$example.c" -L"$lib_dir" -lai_billing_c \
        -Wl,-rpath,"$(cd "$lib_dir" && pwd)" -o "$out/$example-dynamic"
done
run gcc "${cflags[@]}" -O2 examples/c/bench_noop.c "$lib_dir/libai_billing_c.a" \
    "${static_libs[@]}" -o "$out/bench_noop"

for example in preview_and_renew bad_inputs; do
    run "$out/$example"
    run "$out/$example-dynamic"
    run valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
        --suppressions=examples/c/valgrind.supp "$out/$example"
done
# The benchmark, briefly, so it cannot rot (the figures come from a release build: see
# bindings-c/README.md).
run "$out/bench_noop" 100000 200

echo "== C ABI: examples passed, plainly and under valgrind =="
