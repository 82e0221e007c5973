#!/usr/bin/env bash
# A throwaway local PostgreSQL server for the Postgres build and its tests.
#
#   scripts/postgres.sh start [DIR]   install Debian's postgresql if missing,
#                                     start a cluster in DIR (default: a temp
#                                     dir) on 127.0.0.1, a free port; create
#                                     database, roles; print the env vars
#   scripts/postgres.sh stop  DIR     stop the cluster in DIR and delete DIR
#   scripts/postgres.sh env   DIR     print the env vars of a running cluster
#
# Idempotent: `start DIR` on a running cluster only prints its env vars.
# Output of start/env is `export NAME=value` lines (eval-able):
#   AIMETRICS_PG_HOST AIMETRICS_PG_PORT AIMETRICS_PG_USER AIMETRICS_PG_PASSWORD
#   AIMETRICS_PG_DATABASE AIMETRICS_PG_DIR
# Roles: the owner `aimetrics` (dbt builds as it; may create databases, so
# tests build each dataset in a fresh one) and `aimetrics_bi`, the
# read-only BI role that dbt's grants (dbt_project.yml) give select on marts.
# The server listens on 127.0.0.1 only; password auth (scram) over TCP.
set -euo pipefail

cmd="${1:-start}"
dir="${2:-}"
DB=aimetrics
OWNER=aimetrics
OWNER_PW=aimetrics
BI=aimetrics_bi
BI_PW=aimetrics_bi

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        return 1
    fi
    echo "$bin"
}

ensure_installed() {
    if pg_bin >/dev/null; then
        return
    fi
    log "installing Debian's postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    # Debian's package starts its own cluster; we use ours only.
    if command -v pg_ctlcluster >/dev/null; then
        for c in $(ls /etc/postgresql 2>/dev/null); do
            pg_ctlcluster "$c" main stop >/dev/null 2>&1 || true
        done
    fi
    pg_bin >/dev/null || { log "postgresql did not install"; exit 1; }
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# The server runs as the unprivileged `postgres` user (initdb refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

print_env() {
    local d="$1" port
    port=$(cat "$d/port")
    cat <<EOF
export AIMETRICS_PG_HOST=127.0.0.1
export AIMETRICS_PG_PORT=$port
export AIMETRICS_PG_USER=$OWNER
export AIMETRICS_PG_PASSWORD=$OWNER_PW
export AIMETRICS_PG_DATABASE=$DB
export AIMETRICS_PG_DIR=$d
EOF
}

running() {
    local d="$1" bin
    bin=$(pg_bin) || return 1
    [ -f "$d/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$d/data" status >/dev/null 2>&1
}

start() {
    ensure_installed
    local bin
    bin=$(pg_bin)
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/aimetrics-pg.XXXXXX)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if running "$dir"; then
        print_env "$dir"
        return
    fi
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/false postgres
        chown postgres "$dir"
        chmod 700 "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        printf '%s\n' "$OWNER_PW" >"$dir/pwfile"
        [ "$(id -u)" = 0 ] && chown postgres "$dir/pwfile"
        as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        rm -f "$dir/pwfile"
    fi
    local port
    port=$(free_port)
    echo "$port" >"$dir/port"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    local psql=("$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q)
    as_pg "${psql[@]}" <<EOF >/dev/null
do \$\$ begin
  if not exists (select from pg_roles where rolname = '$OWNER') then
    create role $OWNER login createdb password '$OWNER_PW';
  end if;
  if not exists (select from pg_roles where rolname = '$BI') then
    create role $BI login password '$BI_PW';
  end if;
end \$\$;
EOF
    if ! as_pg "${psql[@]}" -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
        as_pg "${psql[@]}" -c "create database $DB owner $OWNER" >/dev/null
    fi
    # The BI role may connect; what it may read is granted by dbt (grants config).
    as_pg "${psql[@]}" -d "$DB" -c "revoke create on schema public from public; grant connect on database $DB to $BI" >/dev/null
    log "PostgreSQL running in $dir on 127.0.0.1:$port"
    print_env "$dir"
}

stop() {
    [ -n "$dir" ] || { log "usage: $0 stop DIR"; exit 2; }
    local bin
    if [ -d "$dir/data" ] && bin=$(pg_bin); then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in
        /tmp/*) rm -rf "$dir" ;;
        *) log "left $dir in place (not under /tmp)" ;;
    esac
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    env) running "$dir" && print_env "$dir" || { log "no server running in $dir"; exit 1; } ;;
    *) log "usage: $0 start [DIR] | stop DIR | env DIR"; exit 2 ;;
esac
