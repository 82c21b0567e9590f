#!/usr/bin/env bash
# The performance benchmark of BENCHMARKS.md ("Performance and scale"): a billing run against the
# bare SQL aggregate of the usage it reads, on data made by `ai-billing generate`.
#
#   bash scripts/bench.sh sqlite   [--subscriptions N] [--months M] [--runs R] [--lookback]
#   bash scripts/bench.sh postgres [--subscriptions N] [--months M] [--runs R] [--workers "1 2 4"]
#
# sqlite: generates (once, kept in $BENCH_DIR) N subscriptions starting over January 2026 with M
#   months of daily deliveries (and, from issue 18 on, change traffic: cancellations, holds, plan
#   and quantity changes, the changed subscriptions billed up to each change); then R times, each
#   on a fresh copy of that file: times the bare aggregate (sql/bench/bare_aggregate.sqlite.sql
#   through the sqlite3 CLI) and the run (`ai-billing run --until 2026-02-28`, under
#   /usr/bin/time -v for its peak memory), checks that the run read exactly the rows the aggregate
#   counts, and prints each time, the medians and their ratio. The aggregate's windows are the
#   calendar's: a cancellation or a plan change cuts a subscription's windows, so when the data
#   has changes the check (not the timing) is made on the subscriptions no change touched, with
#   the aggregate restricted to them and the run's usage reads of them; renewals/s counts the
#   invoices the run issued.
# sqlite --lookback (issue 19, late usage): the data has 3 months of deliveries and is billed
#   (untimed, once, kept in $BENCH_DIR) up to 2026-02-28 and 2026-03-31, so every usage renewal of
#   the timed run has its last 2 billed periods to read again; then 2% of the shipment rows of
#   those periods are added late (copies under new ids). The timed run bills up to 2026-04-30 with
#   the look-back on (the engine's default, 2), and the bare aggregate covers the same reads: each
#   renewal's own window and the windows of the 2 periods billed before it. The check compares the
#   run's own-period reads with the aggregate of the own windows.
# postgres: the same data in a database of $PGURL (default postgres://postgres@127.0.0.1:5432),
#   then for each worker count W, R times: a fresh copy of the database (CREATE DATABASE ...
#   TEMPLATE), the bare aggregate (sql/bench/bare_aggregate.postgres.sql through psql), and W
#   `ai-billing run` processes started at once on it; prints the medians and the throughput.
#   Its databases are named bench_* and dropped at the end.
#
# Needs: a release build (made here), sqlite3 (`apt-get install -y sqlite3`), psql for postgres.
# Environment: BENCH_DIR (default /tmp/ai-billing-bench), BIN (a built ai-billing), PGURL,
# RUN_ARGS (more arguments for each `ai-billing run`, e.g. "--concurrency 1"), WORKER_CPU (postgres:
# each worker in a cgroup of its own limited to this many cores, e.g. 0.2, as if it ran on a small
# machine of its own; needs a writable cgroup cpu controller, v1 or v2), KEEP_DATA=1 (keep
# the generated PostgreSQL database for the next call).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

store=${1:-sqlite}
shift || true
subscriptions=100000
months=1
runs=3
workers="1 2 4"
until_date=2026-02-28
lookback=0
while [ $# -gt 0 ]; do
    case $1 in
        --subscriptions) subscriptions=$2; shift 2 ;;
        --months) months=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --lookback) lookback=1; months=3; until_date=2026-04-30; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

if [ -z "${BIN:-}" ]; then
    cargo build --quiet --release -p ai-billing-cli
    target=${CARGO_TARGET_DIR:-$root/target}
    BIN=$target/x86_64-unknown-linux-gnu/release/ai-billing
fi
dir=${BENCH_DIR:-/tmp/ai-billing-bench}
mkdir -p "$dir"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $subscriptions subscriptions, $months month(s) of deliveries, billed up to $until_date; $runs run(s)${RUN_ARGS:+; run arguments: $RUN_ARGS}${WORKER_CPU:+; each worker limited to $WORKER_CPU cores}"

# The sum of what every usage_queried event of a run says it read, as the bare aggregate prints it.
USAGE_READ="SELECT COUNT(DISTINCT e.id), SUM(CASE WHEN v.key = 'shipments' THEN n.value END),
  SUM(CASE WHEN v.key = 'units' THEN n.value END),
  SUM(CASE WHEN v.key = 'returned_shipments' THEN n.value END),
  SUM(CASE WHEN v.key = 'returned_units' THEN n.value END)
  FROM audit_outbox AS e, json_each(e.data, '\$.usage') AS v, json_each(v.value) AS n
  WHERE e.action = 'usage_queried'"

if [ "$store" = sqlite ]; then
    command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install -y sqlite3" >&2; exit 2; }
    data=$dir/data-$subscriptions-$months.db
    [ "$lookback" = 1 ] && data=$dir/data-$subscriptions-$months-billed.db
    if [ ! -f "$data" ]; then
        echo "generating $data ..."
        "$BIN" generate --db "sqlite://$data.tmp" --subscriptions "$subscriptions" \
            --start 2026-01-01 --months "$months" --seed 7
        if [ "$lookback" = 1 ]; then
            for billed in 2026-02-28 2026-03-31; do
                echo "billing up to $billed (untimed) ..."
                "$BIN" run --db "sqlite://$data.tmp" --until "$billed" --json
            done
            # 2% of the billed periods' shipment rows arrive late.
            sqlite3 "$data.tmp" "INSERT INTO shipments (id, account_id, customer_id, shipped_at, quantity)
                SELECT id || '_late', account_id, customer_id, shipped_at, quantity FROM shipments
                WHERE shipped_at < unixepoch('2026-03-01') AND abs(random()) % 50 = 0;"
            # The outbox as shipped: the timed run's events are the only pending ones.
            sqlite3 "$data.tmp" "SELECT COUNT(*) || ' late rows' FROM shipments WHERE id LIKE '%_late'"
        fi
        sqlite3 "$data.tmp" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
        mv "$data.tmp" "$data"; rm -f "$data.tmp-wal" "$data.tmp-shm"
    fi
    # The aggregate of the timed run's reads: its windows up to --until, and with the look-back
    # each renewal's 2 billed periods before its own.
    sed "s/2026-02-28 23:59:59/$until_date 23:59:59/" sql/bench/bare_aggregate.sqlite.sql > "$dir/bare_own.sql"
    if [ "$lookback" = 1 ]; then
        sed "s/u.months, s.next_invoice_period$/u.months, max(1, s.next_invoice_period - 2)/" "$dir/bare_own.sql" > "$dir/bare.sql"
        grep -q 'max(1, s.next_invoice_period - 2)' "$dir/bare.sql" || { echo "the aggregate's first period is no longer selected as bench.sh expects" >&2; exit 1; }
    else
        cp "$dir/bare_own.sql" "$dir/bare.sql"
    fi
    echo "shipments: $(sqlite3 "$data" 'SELECT COUNT(*) FROM shipments'), returns: $(sqlite3 "$data" 'SELECT COUNT(*) FROM returns')"
    # Change traffic (issue 18): the subscriptions it touched, and the invoices and credit notes
    # it issued before any run.
    changed=0
    if [ "$(sqlite3 "$data" "SELECT COUNT(*) FROM pragma_table_info('subscriptions') WHERE name = 'changes'")" = 1 ]; then
        changed=$(sqlite3 "$data" 'SELECT COUNT(*) FROM subscriptions WHERE changes IS NOT NULL')
        echo "change traffic: $changed subscriptions changed ($(sqlite3 "$data" "SELECT COUNT(*) FROM subscriptions WHERE changes ->> '\$.end' IS NOT NULL AND changes ->> '\$.switch' IS NULL") canceled, $(sqlite3 "$data" "SELECT COUNT(*) FROM subscriptions WHERE changes ->> '\$.switch' IS NOT NULL OR changes ->> '\$.term' IS NOT NULL") plan changes), $(sqlite3 "$data" 'SELECT COUNT(*) FROM invoices') invoices and $(sqlite3 "$data" 'SELECT COUNT(*) FROM credit_notes') credit notes issued by the changes"
        # The check's aggregate: the same file, on the subscriptions no change touched.
        sed "s/WHERE s.status = 'active' AND s.next_invoice_at IS NOT NULL/& AND s.changes IS NULL/" \
            "$dir/bare_own.sql" > "$dir/bare_unchanged.sql"
        grep -q 's.changes IS NULL' "$dir/bare_unchanged.sql" || { echo "the aggregate's subscriptions are no longer selected as bench.sh expects" >&2; exit 1; }
    fi
    bare_times=(); run_times=(); rss=(); issued=()
    for i in $(seq "$runs"); do
        db=$dir/run.db
        rm -f "$db" "$db-wal" "$db-shm"
        cp "$data" "$db"
        t0=$(now)
        bare=$(sqlite3 "$db" < "$dir/bare.sql")
        t1=$(now)
        /usr/bin/time -v -o "$dir/time.txt" "$BIN" run --db "sqlite://$db" --until "$until_date" --json > "$dir/run.json"
        t2=$(now)
        kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
        bare_times+=("$(elapsed "$t0" "$t1")"); run_times+=("$(elapsed "$t1" "$t2")"); rss+=("$kb")
        issued+=("$(sed 's/.*"issued":\([0-9]*\).*/\1/' "$dir/run.json")")
        echo "run $i: bare aggregate $(elapsed "$t0" "$t1") s ($bare), run $(elapsed "$t1" "$t2") s $(cat "$dir/run.json"), peak RSS $((kb / 1024)) MB"
        if [ "$changed" = 0 ] && [ "$lookback" = 0 ]; then
            want=$(echo "$bare" | cut -d'|' -f1,3-6)
            read_back=$(sqlite3 "$db" "$USAGE_READ")
        else
            # Untimed: the aggregate on the unchanged subscriptions (of the data as generated),
            # and what the run's own usage reads of them say.
            want=$(sqlite3 "$data" < "$dir/bare_unchanged.sql" | cut -d'|' -f1,3-6)
            first=$(sqlite3 "$data" 'SELECT COALESCE(MAX(seq), 0) FROM audit_outbox')
            read_back=$(sqlite3 "$db" "ATTACH '$data' AS generated; $USAGE_READ AND e.seq > $first
                AND EXISTS (SELECT 1 FROM generated.subscriptions AS s WHERE s.account_id = e.account_id
                            AND s.id = e.subject_id AND s.changes IS NULL)")
        fi
        if [ "$want" != "$read_back" ]; then
            echo "MISMATCH: the run read $read_back (windows|shipments|units|returns|returned units), the aggregate counts $want" >&2
            exit 1
        fi
    done
    invoices=${issued[0]}
    bare_median=$(echo "${bare_times[*]}" | median)
    run_median=$(echo "${run_times[*]}" | median)
    rss_max=$(echo "${rss[*]}" | tr ' ' '\n' | sort -n | tail -1)
    if [ "$changed" = 0 ]; then
        echo "invoices: $invoices; the run read exactly the rows the aggregate counts"
    else
        echo "invoices issued by the run: $invoices ($(sqlite3 "$dir/run.db" 'SELECT COUNT(*) FROM invoices') in all, $(sqlite3 "$dir/run.db" 'SELECT COUNT(*) FROM credit_notes') credit notes); on the $(sqlite3 "$data" 'SELECT COUNT(*) FROM subscriptions WHERE changes IS NULL') unchanged subscriptions the run read exactly the rows the aggregate counts"
    fi
    echo "median: bare aggregate $bare_median s, run $run_median s ($(awk -v n="$invoices" -v t="$run_median" 'BEGIN { printf "%.0f", n / t }') renewals/s), peak RSS $((rss_max / 1024)) MB"
    echo "ratio run / bare aggregate: $(awk -v a="$run_median" -v b="$bare_median" 'BEGIN { printf "%.2f", a / b }')"
    rm -f "$dir/run.db" "$dir/run.db-wal" "$dir/run.db-shm"
    exit 0
fi

if [ "$store" = postgres ]; then
    base=${PGURL:-postgres://postgres@127.0.0.1:5432}
    psql_admin() { psql "$base/postgres" -q -v ON_ERROR_STOP=1 "$@"; }
    # CPU seconds used so far by the PostgreSQL processes of this machine (the live ones, and the
    # backends that ended, which the postmaster reaped); 0 when the server runs elsewhere. Other
    # clients of the same server count too.
    server_cpu() {
        local postmaster total=0 pid fields
        postmaster=$(pgrep -o -x postgres || true)
        for pid in $(pgrep -x postgres || true); do
            read -r -a fields < <(cut -d' ' -f14-17 "/proc/$pid/stat" 2>/dev/null) || continue
            total=$((total + fields[0] + fields[1]))
            if [ "$pid" = "$postmaster" ]; then total=$((total + fields[2] + fields[3])); fi
        done
        awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
    }
    # `limited K CMD...`: runs CMD, in worker K's cgroup when WORKER_CPU is set.
    limited() {
        local k=$1
        shift
        if [ -z "${WORKER_CPU:-}" ]; then
            "$@"
            return
        fi
        local quota group
        quota=$(awk -v c="$WORKER_CPU" 'BEGIN { printf "%d", c * 100000 }')
        if [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then
            group=/sys/fs/cgroup/ai-billing-bench-$k
            mkdir -p "$group"
            echo "$quota 100000" > "$group/cpu.max"
        elif [ -d /sys/fs/cgroup/cpu ]; then
            group=/sys/fs/cgroup/cpu/ai-billing-bench-$k
            mkdir -p "$group"
            echo 100000 > "$group/cpu.cfs_period_us"
            echo "$quota" > "$group/cpu.cfs_quota_us"
        else
            echo "WORKER_CPU needs a writable cgroup cpu controller" >&2
            exit 2
        fi
        # A subshell moves itself into the group, then becomes CMD.
        sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$group" "$@"
    }
    data=bench_data_${subscriptions}_${months}
    if [ -z "$(psql "$base/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$data'")" ]; then
        echo "generating $data ..."
        psql_admin -c "CREATE DATABASE ${data}_tmp"
        "$BIN" generate --db "$base/${data}_tmp" --subscriptions "$subscriptions" \
            --start 2026-01-01 --months "$months" --seed 7
        psql "$base/${data}_tmp" -q -c "VACUUM ANALYZE"
        psql_admin -c "ALTER DATABASE ${data}_tmp RENAME TO $data"
    fi
    echo "shipments: $(psql "$base/$data" -tAc 'SELECT count(*) FROM shipments'), returns: $(psql "$base/$data" -tAc 'SELECT count(*) FROM returns')"
    for w in $workers; do
        times=(); bare_times=()
        for i in $(seq "$runs"); do
            psql_admin -c "DROP DATABASE IF EXISTS bench_run" -c "CREATE DATABASE bench_run TEMPLATE $data"
            # Change traffic (issue 18), untimed: what was issued before the run, and the check's
            # aggregate on the subscriptions no change touched (as on SQLite, above).
            pre_invoices=$(psql "$base/bench_run" -tAc 'SELECT count(*) FROM invoices')
            first=$(psql "$base/bench_run" -tAc 'SELECT COALESCE(max(seq), 0) FROM audit_outbox')
            changed=$(psql "$base/bench_run" -tAc "SELECT count(*) FROM information_schema.columns WHERE table_name = 'subscriptions' AND column_name = 'changes'")
            if [ "$changed" != 0 ]; then
                changed=$(psql "$base/bench_run" -tAc 'SELECT count(*) FROM subscriptions WHERE changes IS NOT NULL')
            fi
            unchanged_filter=""
            if [ "$changed" != 0 ]; then
                psql "$base/bench_run" -q -v ON_ERROR_STOP=1 -c "CREATE TABLE bench_unchanged AS SELECT account_id, id FROM subscriptions WHERE changes IS NULL"
                want=$(sed "s/WHERE s.status = 'active' AND s.next_invoice_at IS NOT NULL/& AND s.changes IS NULL/" sql/bench/bare_aggregate.postgres.sql \
                    | psql "$base/bench_run" -v ON_ERROR_STOP=1 -tA -F'|' | cut -d'|' -f1,3-6)
                unchanged_filter="AND e.seq > $first AND EXISTS (SELECT 1 FROM bench_unchanged AS u WHERE u.account_id = e.account_id AND u.id = e.subject_id)"
            fi
            t0=$(now)
            bare=$(psql "$base/bench_run" -v ON_ERROR_STOP=1 -tA -F'|' -f sql/bench/bare_aggregate.postgres.sql)
            t1=$(now)
            pids=()
            server_before=$(server_cpu)
            for k in $(seq "$w"); do
                # shellcheck disable=SC2086
                limited "$k" /usr/bin/time -f "%U %S" -o "$dir/worker-$k.cpu" \
                    "$BIN" run --db "$base/bench_run" --until "$until_date" --json ${RUN_ARGS:-} > "$dir/worker-$k.json" &
                pids+=($!)
            done
            for pid in "${pids[@]}"; do wait "$pid"; done
            t2=$(now)
            server_after=$(server_cpu)
            worker_cpu=$(cat "$dir"/worker-*.cpu | awk '{ t += $1 + $2 } END { printf "%.2f", t }')
            rm -f "$dir"/worker-*.cpu
            invoices=$(psql "$base/bench_run" -tAc 'SELECT count(*) FROM invoices')
            distinct=$(psql "$base/bench_run" -tAc 'SELECT count(DISTINCT (account_id, subscription_id, period_start)) FROM invoices')
            due=$(psql "$base/bench_run" -tAc "SELECT count(*) FROM subscriptions WHERE status = 'active' AND next_invoice_at <= '$until_date 23:59:59.999999+00'")
            issued=$(cat "$dir"/worker-*.json | sed 's/.*"issued":\([0-9]*\).*/\1/' | paste -sd+ | bc)
            rm -f "$dir"/worker-*.json
            bare_times+=("$(elapsed "$t0" "$t1")"); times+=("$(elapsed "$t1" "$t2")")
            echo "workers $w, run $i: bare aggregate $(elapsed "$t0" "$t1") s ($bare), run $(elapsed "$t1" "$t2") s: $invoices invoices ($distinct distinct periods, $issued issued by the workers), $due still due; CPU: workers $worker_cpu s, PostgreSQL $(elapsed "$server_before" "$server_after") s; load $(cut -d' ' -f1-3 /proc/loadavg)"
            read_back=$(psql "$base/bench_run" -tA -F'|' -c "SELECT count(DISTINCT e.id),
                sum(CASE WHEN v.key = 'shipments' THEN n::bigint END),
                sum(CASE WHEN v.key = 'units' THEN n::bigint END),
                sum(CASE WHEN v.key = 'returned_shipments' THEN n::bigint END),
                sum(CASE WHEN v.key = 'returned_units' THEN n::bigint END)
                FROM audit_outbox AS e, json_each(e.data -> 'usage') AS v,
                     json_array_elements_text(v.value) AS n
                WHERE e.action = 'usage_queried' $unchanged_filter")
            if [ "$changed" = 0 ]; then want=$(echo "$bare" | cut -d'|' -f1,3-6); fi
            if [ "$want" != "$read_back" ]; then
                echo "MISMATCH: the runs read $read_back, the aggregate counts $want" >&2
                exit 1
            fi
            if [ "$invoices" != "$distinct" ] || [ "$((invoices - pre_invoices))" != "$issued" ] || [ "$due" != 0 ]; then
                echo "MISMATCH: duplicates or subscriptions left due" >&2
                exit 1
            fi
        done
        t=$(echo "${times[*]}" | median)
        echo "workers $w: median run $t s, $(awk -v n="$((invoices - pre_invoices))" -v t="$t" 'BEGIN { printf "%.0f", n / t }') renewals/s; median bare aggregate $(echo "${bare_times[*]}" | median) s"
    done
    psql_admin -c "DROP DATABASE IF EXISTS bench_run"
    rmdir /sys/fs/cgroup/ai-billing-bench-* /sys/fs/cgroup/cpu/ai-billing-bench-* 2>/dev/null || true
    if [ -z "${KEEP_DATA:-}" ]; then psql_admin -c "DROP DATABASE $data"; fi
    exit 0
fi
echo "usage: bash scripts/bench.sh sqlite|postgres [--subscriptions N] [--months M] [--runs R] [--workers \"1 2 4\"]" >&2
exit 2
