#!/usr/bin/env bash
# The npm package as users get it: `npm pack` the built package (run after `npm run build`),
# check what the tarball holds, install it offline into an empty folder, run
# examples/node/index.js there with node, and check what it prints.
set -Eeuo pipefail

package="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$package/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ai-billing-pack-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

run() {
    echo "+ $*" >&2
    "$@"
}

cd "$package"
run npm pack --silent --pack-destination "$work" >"$work/pack.txt"
tarball="$work/$(tail -n 1 "$work/pack.txt")"
[ -f "$tarball" ] || { echo "npm pack made no tarball (it printed: $(cat "$work/pack.txt"))" >&2; exit 1; }

# Everything the package promises, and nothing from the crate or the tests.
tar -tzf "$tarball" | sort >"$work/contents.txt"
for file in package.json index.js index.d.ts types.d.ts README.md \
    ai-billing.linux-x64-gnu.node schema/plan.schema.json schema/invoice.schema.json openapi.json; do
    grep -qx "package/$file" "$work/contents.txt" || {
        echo "the package lacks $file; it holds:" >&2
        cat "$work/contents.txt" >&2
        exit 1
    }
done
if grep -E '^package/(src|test|node_modules|bench|scripts)/|^package/Cargo' "$work/contents.txt"; then
    echo "the package holds files it should not (above)" >&2
    exit 1
fi

mkdir "$work/app"
cd "$work/app"
echo '{ "name": "ai-billing-pack-test", "version": "0.0.0", "private": true }' >package.json
run npm install --offline --no-audit --no-fund --loglevel=error "$tarball"
cp "$root/examples/node/index.js" .
echo "+ node index.js (examples/node/index.js against the installed package)" >&2
node index.js >out.txt
cat out.txt

expect() {
    grep -qF -- "$1" out.txt || { echo "pack test: the example did not print: $1" >&2; exit 1; }
}
expect "Outcome: understood (by offline, invoices at_start)"
expect "5.00 USD each month, rising by 1.00 USD every month"
expect 'Outcome of "charge whatever seems fair": refused: '
expect "Preview: 4 invoices, totals 5.41, 6.50, 7.58, 8.66"
expect "Plan plan_step_up v1 saved, read by offline"
expect "Subscription sub_1 created, first invoice 5.00 USD"
expect "Run: 2 invoices issued for 1 subscription(s), 0 failed"
expect ": 6.00 USD (subscription_cycle)"
expect ": 7.00 USD (subscription_cycle)"
expect "Quantity 0: INVALID_INPUT: invalid subscription.quantity"
echo "pack test passed: $(basename "$tarball") installs offline and the example runs" >&2
