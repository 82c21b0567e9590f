# shellcheck shell=bash
# Database servers for the integration tests. SOURCE it (it exports variables and sets a trap):
#
#     source scripts/services.sh
#
# For PostgreSQL and MariaDB each:
#   - if AI_BILLING_TEST_POSTGRES / AI_BILLING_TEST_MYSQL is already set, it is used as is;
#   - else if a server accepts connections on 127.0.0.1 at the usual port (PostgreSQL 5432 as user
#     postgres with trust auth; MariaDB 3306 as root without a password), it is used;
#   - else the server is installed from Debian's packages when missing (apt-get install -y
#     postgresql / mariadb-server), and a THROWAWAY server is started in a temporary folder on a
#     free loopback port (no fsync: nothing in it outlives the run), and stopped, its folder
#     removed, when the sourcing shell exits.
# Then it exports
#   AI_BILLING_TEST_POSTGRES  an admin database URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   AI_BILLING_TEST_MYSQL     an admin database URL (mysql://root@127.0.0.1:PORT/mysql)
# from which each test creates (and drops) its own database.
#
# For OpenSearch it starts no server (each test starts its own osmem-server, see
# tests/src/opensearch.rs): it makes sure python3 can import osmem_server (pip-installing
# osmem-server==0.1.6 quietly when it cannot, as the current user, with --user as a fallback) and
# exports
#   AI_BILLING_TEST_OSMEM     the path of the osmem-server binary
#
# Overrides, mainly to try the "none running" path without stopping the real servers:
#   AI_BILLING_PG_PORT=5999 AI_BILLING_MYSQL_PORT=3999 source scripts/services.sh
# probes those ports instead, finds nothing and starts throwaway servers elsewhere.
# AI_BILLING_SERVICES_VERBOSE=1 shows the servers' start-up output.
#
# The EXIT trap is chained after any EXIT trap the shell already has; a caller that sets its own
# EXIT trap later should call `ai_billing_services_stop` from it.

ai_billing_services_log() {
    echo "services.sh: $*" >&2
}

# A free TCP port on 127.0.0.1 (the kernel's choice, released at once).
ai_billing_services_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for port in $(seq 55432 55532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    return 1
}

# Runs a command as `user` (when root) or as the current user (otherwise: servers run as whoever
# starts them).
ai_billing_services_as() {
    local user="$1"
    shift
    if [ "$(id -u)" = 0 ] && [ "$user" != root ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$user" -- "$@"
        else
            su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

ai_billing_services_apt_install() {
    ai_billing_services_log "installing $* from Debian's packages"
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2; }
    else
        sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2 ||
            { sudo apt-get update >&2 && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2; }
    fi
}

ai_billing_services_quiet() {
    if [ -n "${AI_BILLING_SERVICES_VERBOSE:-}" ]; then "$@"; else "$@" >/dev/null 2>&1; fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

ai_billing_pg_answers() { # PORT
    command -v psql >/dev/null 2>&1 &&
        PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

ai_billing_pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

ai_billing_pg_start() {
    local bindir user port dir
    bindir="$(ai_billing_pg_bindir)"
    if [ -z "$bindir" ]; then
        ai_billing_services_apt_install postgresql || return 1
        bindir="$(ai_billing_pg_bindir)"
    fi
    [ -n "$bindir" ] || { ai_billing_services_log "no initdb after installing postgresql"; return 1; }
    # initdb refuses to run as root: as root, the server runs as the postgres user, in a folder
    # it can read (not under /root).
    user="$(id -un)"
    if [ "$(id -u)" = 0 ]; then user=postgres; fi
    port="$(ai_billing_services_free_port)" || return 1
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ai-billing-pg.XXXXXX")" || return 1
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$user" "$dir"
    AI_BILLING_PG_DIR="$dir"
    AI_BILLING_PG_BINDIR="$bindir"
    AI_BILLING_PG_USER="$user"
    ai_billing_services_log "starting a throwaway PostgreSQL on 127.0.0.1:$port in $dir"
    ai_billing_services_quiet ai_billing_services_as "$user" "$bindir/initdb" -D "$dir/data" \
        -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 ||
        ai_billing_services_quiet ai_billing_services_as "$user" "$bindir/initdb" -D "$dir/data" \
            -U postgres --auth=trust --encoding=UTF8 --locale=C ||
        { ai_billing_services_log "initdb failed"; return 1; }
    ai_billing_services_quiet ai_billing_services_as "$user" "$bindir/pg_ctl" -D "$dir/data" \
        -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start || { ai_billing_services_log "PostgreSQL did not start:"; cat "$dir/server.log" >&2; return 1; }
    AI_BILLING_PG_STARTED=1
    ai_billing_pg_answers "$port" || { ai_billing_services_log "the throwaway PostgreSQL does not answer"; return 1; }
    export AI_BILLING_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
}

ai_billing_pg_stop() {
    if [ -n "${AI_BILLING_PG_STARTED:-}" ]; then
        ai_billing_services_quiet ai_billing_services_as "$AI_BILLING_PG_USER" \
            "$AI_BILLING_PG_BINDIR/pg_ctl" -D "$AI_BILLING_PG_DIR/data" -m immediate -w stop || true
        AI_BILLING_PG_STARTED=
    fi
    if [ -n "${AI_BILLING_PG_DIR:-}" ]; then
        rm -rf "$AI_BILLING_PG_DIR"
        AI_BILLING_PG_DIR=
    fi
}

# ---------------------------------------------------------------------------------------------
# MariaDB

ai_billing_mysql_client() {
    if command -v mariadb >/dev/null 2>&1; then echo mariadb;
    elif command -v mysql >/dev/null 2>&1; then echo mysql; fi
}

ai_billing_mysql_answers() { # PORT
    local client
    client="$(ai_billing_mysql_client)"
    [ -n "$client" ] &&
        "$client" --protocol=TCP -h 127.0.0.1 -P "$1" -uroot --connect-timeout=3 -e 'select 1' >/dev/null 2>&1
}

ai_billing_mysql_server() {
    if command -v mariadbd >/dev/null 2>&1; then command -v mariadbd;
    elif [ -x /usr/sbin/mariadbd ]; then echo /usr/sbin/mariadbd;
    elif [ -x /usr/sbin/mysqld ]; then echo /usr/sbin/mysqld; fi
}

ai_billing_mysql_start() {
    local server install user port dir waited
    server="$(ai_billing_mysql_server)"
    if [ -z "$server" ]; then
        ai_billing_services_apt_install mariadb-server || return 1
        server="$(ai_billing_mysql_server)"
    fi
    [ -n "$server" ] || { ai_billing_services_log "no mariadbd after installing mariadb-server"; return 1; }
    install="$(command -v mariadb-install-db || command -v mysql_install_db)"
    [ -n "$install" ] || { ai_billing_services_log "no mariadb-install-db"; return 1; }
    user="$(id -un)"
    if [ "$(id -u)" = 0 ]; then user=mysql; fi
    port="$(ai_billing_services_free_port)" || return 1
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ai-billing-mysql.XXXXXX")" || return 1
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$user" "$dir"
    AI_BILLING_MYSQL_DIR="$dir"
    ai_billing_services_log "starting a throwaway MariaDB on 127.0.0.1:$port in $dir"
    ai_billing_services_quiet "$install" --no-defaults --user="$user" --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db ||
        { ai_billing_services_log "mariadb-install-db failed"; return 1; }
    # --skip-grant-tables: a throwaway server on loopback where root needs no password over TCP
    # (root@localhost alone would not match 127.0.0.1 without name resolution).
    "$server" --no-defaults --user="$user" --datadir="$dir/data" --port="$port" \
        --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
        --skip-grant-tables --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
        --log-error="$dir/server.log" >/dev/null 2>&1 &
    AI_BILLING_MYSQL_PID=$!
    waited=0
    until ai_billing_mysql_answers "$port"; do
        if ! kill -0 "$AI_BILLING_MYSQL_PID" 2>/dev/null || [ "$waited" -ge 60 ]; then
            ai_billing_services_log "MariaDB did not start:"
            cat "$dir/server.log" >&2 2>/dev/null
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    export AI_BILLING_TEST_MYSQL="mysql://root@127.0.0.1:$port/mysql"
}

ai_billing_mysql_stop() {
    if [ -n "${AI_BILLING_MYSQL_PID:-}" ]; then
        kill "$AI_BILLING_MYSQL_PID" 2>/dev/null || true
        local waited=0
        while kill -0 "$AI_BILLING_MYSQL_PID" 2>/dev/null && [ "$waited" -lt 60 ]; do
            sleep 0.5
            waited=$((waited + 1))
        done
        kill -9 "$AI_BILLING_MYSQL_PID" 2>/dev/null || true
        AI_BILLING_MYSQL_PID=
    fi
    if [ -n "${AI_BILLING_MYSQL_DIR:-}" ]; then
        rm -rf "$AI_BILLING_MYSQL_DIR"
        AI_BILLING_MYSQL_DIR=
    fi
}

# ---------------------------------------------------------------------------------------------
# OpenSearch (osmem-server, an in-memory OpenSearch-compatible server from PyPI)

ai_billing_osmem_version=0.1.6

ai_billing_osmem_binary() {
    python3 -c 'import osmem_server, os; print(os.path.join(os.path.dirname(osmem_server.__file__), "bin", "osmem-server"))' 2>/dev/null
}

ai_billing_osmem_setup() {
    local binary
    if [ -n "${AI_BILLING_TEST_OSMEM:-}" ] && [ -x "$AI_BILLING_TEST_OSMEM" ]; then
        ai_billing_services_log "osmem-server: using AI_BILLING_TEST_OSMEM as set"
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || { ai_billing_services_log "osmem-server needs python3"; return 1; }
    if ! python3 -c "import osmem_server" >/dev/null 2>&1; then
        ai_billing_services_log "installing osmem-server==$ai_billing_osmem_version from PyPI"
        python3 -m pip install --quiet --disable-pip-version-check "osmem-server==$ai_billing_osmem_version" >&2 ||
            python3 -m pip install --quiet --disable-pip-version-check --user "osmem-server==$ai_billing_osmem_version" >&2 ||
            { ai_billing_services_log "pip could not install osmem-server==$ai_billing_osmem_version"; return 1; }
    fi
    binary="$(ai_billing_osmem_binary)"
    if [ -z "$binary" ] || [ ! -f "$binary" ]; then
        ai_billing_services_log "osmem_server is installed but has no bin/osmem-server"
        return 1
    fi
    [ -x "$binary" ] || chmod +x "$binary" 2>/dev/null || true
    export AI_BILLING_TEST_OSMEM="$binary"
}

# ---------------------------------------------------------------------------------------------

ai_billing_services_stop() {
    ai_billing_pg_stop
    ai_billing_mysql_stop
}

# Chains the stop after the shell's current EXIT trap, if any.
ai_billing_services_trap() {
    local existing
    existing="$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")"
    if [ -n "$existing" ]; then
        # shellcheck disable=SC2064
        trap "$existing; ai_billing_services_stop" EXIT
    else
        trap ai_billing_services_stop EXIT
    fi
}

ai_billing_services_main() {
    local pg_port="${AI_BILLING_PG_PORT:-5432}" mysql_port="${AI_BILLING_MYSQL_PORT:-3306}"
    local started=""
    if [ -n "${AI_BILLING_TEST_POSTGRES:-}" ]; then
        ai_billing_services_log "PostgreSQL: using AI_BILLING_TEST_POSTGRES as set"
    elif ai_billing_pg_answers "$pg_port"; then
        export AI_BILLING_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port/postgres"
        ai_billing_services_log "PostgreSQL: using the server on 127.0.0.1:$pg_port"
    else
        ai_billing_services_trap
        started=1
        ai_billing_pg_start || { ai_billing_services_log "could not start PostgreSQL"; return 1; }
    fi
    if [ -n "${AI_BILLING_TEST_MYSQL:-}" ]; then
        ai_billing_services_log "MariaDB: using AI_BILLING_TEST_MYSQL as set"
    elif ai_billing_mysql_answers "$mysql_port"; then
        export AI_BILLING_TEST_MYSQL="mysql://root@127.0.0.1:$mysql_port/mysql"
        ai_billing_services_log "MariaDB: using the server on 127.0.0.1:$mysql_port"
    else
        [ -n "$started" ] || ai_billing_services_trap
        ai_billing_mysql_start || { ai_billing_services_log "could not start MariaDB"; return 1; }
    fi
    ai_billing_osmem_setup || { ai_billing_services_log "could not set up osmem-server"; return 1; }
    ai_billing_services_log "AI_BILLING_TEST_POSTGRES=$AI_BILLING_TEST_POSTGRES"
    ai_billing_services_log "AI_BILLING_TEST_MYSQL=$AI_BILLING_TEST_MYSQL"
    ai_billing_services_log "AI_BILLING_TEST_OSMEM=$AI_BILLING_TEST_OSMEM"
}

ai_billing_services_main
