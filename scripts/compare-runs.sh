#!/usr/bin/env bash
# Checks that two builds of `ai-billing` bill the same data identically on SQLite: the check behind
# "byte-identical" in BENCHMARKS.md, for any change to how a run reads or writes.
#
#   bash scripts/compare-runs.sh OLD_BIN NEW_BIN [RUN_ARGS...]
#
# Generates `--subscriptions 2000 --months 3 --seed 7` once with OLD_BIN, bills a copy with each
# binary (`run --until 2026-04-30` and RUN_ARGS, e.g. `--tax-rate 0.0825`), and compares sorted
# dumps of every table (`.mode quote`, so a value's type shows too). Left out are what differs
# between any two runs of the same binary: the wall clock (invoices.created_at,
# subscriptions.updated_at, the events' time) and the per-run ids (event id, run id, correlation
# id). Prints each table's row count; exits 1 at the first difference.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN [RUN_ARGS...]" >&2; exit 2; }
old=$1 new=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$old" generate --db "sqlite://$dir/data.db" --subscriptions 2000 --start 2026-01-01 --months 3 --seed 7 >/dev/null
sqlite3 "$dir/data.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
dump() {
    local db=$1
    sqlite3 -cmd ".mode quote" "$db" "SELECT account_id, id, subscription_id, customer_id, plan_id, plan_version, quantity, billing_reason, status, period_index, issue_date, period_start, period_end, currency, subtotal, tax, tax_inclusive, total, typeof(created_at) FROM invoices" | sort > "$db.invoices"
    for table in invoice_line_items invoice_tax_lines revenue_schedule accounts customers plan_versions; do
        sqlite3 -cmd ".mode quote" "$db" "SELECT * FROM $table" | sort > "$db.$table"
    done
    sqlite3 -cmd ".mode quote" "$db" "SELECT account_id, id, customer_id, plan_id, quantity, start_date, status, current_period, current_period_start, current_period_end, next_invoice_period, next_invoice_at, revision, created_at, typeof(updated_at) FROM subscriptions" | sort > "$db.subscriptions"
    sqlite3 -cmd ".mode quote" "$db" "SELECT account_id, actor, action, subject_kind, subject_id, typeof(run_id), typeof(correlation_id), data, shipped_at, rejected_at, reject_reason FROM audit_outbox" | sort > "$db.audit_outbox"
}
for which in old new; do
    cp "$dir/data.db" "$dir/$which.db"
    bin=$old; [ "$which" = new ] && bin=$new
    "$bin" run --db "sqlite://$dir/$which.db" --until 2026-04-30 --json "$@" > "$dir/$which.json"
    dump "$dir/$which.db"
done
cmp "$dir/old.json" "$dir/new.json" || { echo "the runs' summaries differ: $(cat "$dir/old.json") / $(cat "$dir/new.json")" >&2; exit 1; }
for table in invoices invoice_line_items invoice_tax_lines revenue_schedule subscriptions accounts customers plan_versions audit_outbox; do
    if ! cmp -s "$dir/old.db.$table" "$dir/new.db.$table"; then
        echo "$table differs:" >&2
        diff "$dir/old.db.$table" "$dir/new.db.$table" | head -10 >&2
        exit 1
    fi
    echo "$table: $(wc -l < "$dir/new.db.$table") rows, identical"
done
echo "run summary: $(cat "$dir/new.json")"
