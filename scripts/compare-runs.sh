#!/usr/bin/env bash
# Checks that two builds of `ai-billing` bill the same data identically on SQLite: the check behind
# "byte-identical" in BENCHMARKS.md, for any change to how a run reads or writes.
#
#   bash scripts/compare-runs.sh OLD_BIN NEW_BIN [RUN_ARGS...]
#   bash scripts/compare-runs.sh --dbs A.db B.db
#
# Generates `--subscriptions 2000 --months 3 --seed 7` once with OLD_BIN (or GEN_BIN when set: a
# build whose `generate` makes change traffic, so that cancellations, holds, plan changes and
# their credit notes are compared too), bills a copy with each binary (`run --until 2026-04-30`
# and RUN_ARGS, e.g. `--tax-rate 0.0825`), and compares sorted dumps of every table (`.mode
# quote`, so a value's type shows too). Left out are what differs between any two runs of the
# same binary: the wall clock (invoices.created_at, credit_notes.created_at,
# subscriptions.updated_at, the events' time) and the per-run ids (event id, run id, correlation
# id). A table or column the older schema does not have yet (credit_notes, subscriptions.changes)
# dumps as empty or NULL. Prints each table's row count; exits 1 at the first difference.
#
# `--dbs A B` compares two databases billed already, every billing table but the audit outbox
# (runs killed and resumed write run events an uninterrupted run does not): the crash test's
# check that a resumed database is the uninterrupted one, credit notes included.
set -euo pipefail

# The billing tables, in the order they are compared.
TABLES="invoices invoice_line_items invoice_tax_lines revenue_schedule credit_notes credit_note_line_items credit_note_tax_lines credit_note_revenue subscriptions accounts customers plan_versions"

has_table() { [ "$(sqlite3 "$1" "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '$2'")" = 1 ]; }
has_column() { [ "$(sqlite3 "$1" "SELECT COUNT(*) FROM pragma_table_info('$2') WHERE name = '$3'")" = 1 ]; }

# `query DB TABLE SQL`: the sorted rows of SQL into DB.TABLE, none when DB has no such table.
query() {
    local db=$1 table=$2 sql=$3
    if has_table "$db" "$table"; then
        sqlite3 -cmd ".mode quote" "$db" "$sql" | sort > "$db.$table"
    else
        : > "$db.$table"
    fi
}

dump() {
    local db=$1 changes=NULL
    has_column "$db" subscriptions changes && changes=changes
    query "$db" invoices "SELECT account_id, id, subscription_id, customer_id, plan_id, plan_version, quantity, billing_reason, status, period_index, issue_date, period_start, period_end, currency, subtotal, tax, tax_inclusive, total, typeof(created_at) FROM invoices"
    query "$db" credit_notes "SELECT account_id, id, number, subscription_id, customer_id, invoice_id, invoice_period_start, issue_date, reason, currency, subtotal, tax, tax_inclusive, total, typeof(created_at) FROM credit_notes"
    for table in invoice_line_items invoice_tax_lines revenue_schedule credit_note_line_items credit_note_tax_lines credit_note_revenue accounts customers plan_versions; do
        query "$db" "$table" "SELECT * FROM $table"
    done
    query "$db" subscriptions "SELECT account_id, id, customer_id, plan_id, quantity, start_date, status, current_period, current_period_start, current_period_end, next_invoice_period, next_invoice_at, revision, created_at, typeof(updated_at), $changes FROM subscriptions"
    query "$db" audit_outbox "SELECT account_id, actor, action, subject_kind, subject_id, typeof(run_id), typeof(correlation_id), data, shipped_at, rejected_at, reject_reason FROM audit_outbox"
}

# `compare A B TABLES...`: each table's dumps equal, or the first difference and exit 1.
compare() {
    local a=$1 b=$2
    shift 2
    for table in "$@"; do
        if ! cmp -s "$a.$table" "$b.$table"; then
            echo "$table differs:" >&2
            diff "$a.$table" "$b.$table" | head -10 >&2
            exit 1
        fi
        echo "$table: $(wc -l < "$b.$table") rows, identical"
    done
}

if [ "${1:-}" = --dbs ]; then
    [ $# -eq 3 ] || { echo "usage: $0 --dbs A.db B.db" >&2; exit 2; }
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    # Copies (with their WAL), so the dumps beside them never land next to the caller's files.
    for which in a b; do
        src=$2; [ "$which" = b ] && src=$3
        cp "$src" "$dir/$which.db"
        for suffix in -wal -shm; do
            if [ -f "$src$suffix" ]; then cp "$src$suffix" "$dir/$which.db$suffix"; fi
        done
        dump "$dir/$which.db"
    done
    # shellcheck disable=SC2086
    compare "$dir/a.db" "$dir/b.db" $TABLES
    exit 0
fi

[ $# -ge 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN [RUN_ARGS...] | $0 --dbs A.db B.db" >&2; exit 2; }
old=$1 new=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${GEN_BIN:-$old}" generate --db "sqlite://$dir/data.db" --subscriptions 2000 --start 2026-01-01 --months 3 --seed 7 >/dev/null
sqlite3 "$dir/data.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
for which in old new; do
    cp "$dir/data.db" "$dir/$which.db"
    bin=$old; [ "$which" = new ] && bin=$new
    "$bin" run --db "sqlite://$dir/$which.db" --until 2026-04-30 --json "$@" > "$dir/$which.json"
    dump "$dir/$which.db"
done
cmp "$dir/old.json" "$dir/new.json" || { echo "the runs' summaries differ: $(cat "$dir/old.json") / $(cat "$dir/new.json")" >&2; exit 1; }
# shellcheck disable=SC2086
compare "$dir/old.db" "$dir/new.db" $TABLES audit_outbox
echo "run summary: $(cat "$dir/new.json")"
