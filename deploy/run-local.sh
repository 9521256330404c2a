#!/usr/bin/env bash
# Runs PortHistory for real on this machine: a local PostgreSQL (created on first run, data kept in .data/ in the
# repository, reached over its Unix socket only), the server (Orleans silo + gRPC gateway on 127.0.0.1:7710, HTTP/JSON
# on 127.0.0.1:7711), and an import of registry editions.
#
#   deploy/run-local.sh [--editions DIR | --no-import] [--data DIR] [--port 7710] [--http-port 7711]
#                       [--pg-port 55432] [--no-build] [--configuration Release]
#
# Editions come from --editions DIR, else $PORTHISTORY_EDITIONS, else (when online) the official IANA and RFC Editor
# URLs; offline with none given, or with --no-import, the server serves what its database already holds. However the
# script ends (Ctrl-C, a second Ctrl-C, kill, its terminal closed, the server exiting), it stops the server and
# PostgreSQL and says so, on the terminal and in DATA/run-local.log. More in docs/operations.md.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
editions="${PORTHISTORY_EDITIONS:-}"
import=1
build=1
configuration=Release
data="$repo/.data"
grpc_port="${PORTHISTORY_PORT:-7710}"
http_port="${PORTHISTORY_HTTP_PORT:-7711}"
pg_port="${PORTHISTORY_PG_PORT:-55432}"
while [ $# -gt 0 ]; do
  case "$1" in
    --editions) editions="$2"; shift 2 ;;
    --no-import) import=""; shift ;;
    --data) data="$2"; shift 2 ;;
    --port) grpc_port="$2"; shift 2 ;;
    --http-port) http_port="$2"; shift 2 ;;
    --pg-port) pg_port="$2"; shift 2 ;;
    --no-build) build=""; shift ;;
    --configuration) configuration="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$data"
# Absolute: the path goes into the server's settings and PostgreSQL's options.
data="$(cd "$data" && pwd)"
pgdata="$data/postgres"
pgrun="$data/run"
pglog="$data/postgres.log"
runlog="$data/run-local.log"
token_file="$data/admin-token"
server_pidfile="$data/server.pid"
url="http://127.0.0.1:$grpc_port"
umask 077

say() {
  # The terminal may be gone (closed window, broken pipe): the log file still gets the line.
  printf '\033[1mporthistory:\033[0m %s\n' "$*" 2>/dev/null || true
  printf '%(%F %T)T %s\n' -1 "$*" >>"$runlog" 2>/dev/null || true
}

# One runner per data directory. The kernel drops the lock however this script ends; what the script starts does not
# inherit it ({lock}>&-), so a process left behind cannot keep the next run out.
exec {lock}>>"$data/run-local.lock"
flock -n "$lock" || { echo "another run-local.sh is using $data" >&2; exit 1; }

is_root=""; [ "$(id -u)" -ne 0 ] || is_root=1
# initdb, pg_ctl and postgres refuse to run as root: as root they run as the postgres user (from /, which it can read).
pg() { if [ -n "$is_root" ]; then (cd / && runuser -u postgres -- "$@" {lock}>&-); else "$@" {lock}>&-; fi; }

# True while PID runs (a zombie nobody reaped has ended).
alive() {
  local stat
  kill -0 "$1" 2>/dev/null && read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# --- Stopping: every way out of this script goes through stop (the EXIT trap) ---------------------------------------
server_pid=""   # the server this run started
child=""        # a build, CLI call or download in progress
started_pg=""   # set before PostgreSQL is started: a signal during pg_ctl start still stops it
stopping=""
hurry=""        # a second interrupt while stopping: SIGKILL and immediate shutdown instead of waiting

# SIGTERM, then SIGKILL after $2 seconds, or at once after a second interrupt.
end_process() {
  local pid=$1 tenths=$(($2 * 10))
  kill -TERM "$pid" 2>/dev/null || return 0
  while alive "$pid"; do
    if [ -n "$hurry" ] || [ "$tenths" -le 0 ]; then kill -KILL "$pid" 2>/dev/null; fi
    tenths=$((tenths - 1))
    sleep 0.1
  done
}

stop() {
  [ -z "$stopping" ] || return 0
  stopping=1
  set +e
  trap '' PIPE
  if [ -n "$child" ] && alive "$child"; then end_process "$child" 5; fi
  if [ -n "$server_pid" ] && alive "$server_pid"; then
    say "stopping the server (pid $server_pid)"
    # Long enough for the silo to leave the cluster cleanly; its state is already durable.
    end_process "$server_pid" 30
    say "server stopped"
  fi
  rm -f "$server_pidfile"
  if [ -n "$started_pg" ]; then
    say "stopping PostgreSQL"
    local mode=fast stopper
    [ -z "$hurry" ] || mode=immediate
    pg "$pgbin/pg_ctl" -D "$pgdata" -m "$mode" -w -t 60 stop >/dev/null 2>&1 &
    stopper=$!
    while alive "$stopper"; do
      if [ -n "$hurry" ] && [ "$mode" = fast ]; then
        mode=immediate
        pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
      fi
      sleep 0.1
    done
    if pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
      say "PostgreSQL is still running (see $pglog): stop it with pg_ctl -D $pgdata stop"
    else
      say "PostgreSQL stopped"
    fi
  fi
}

on_signal() {
  if [ -n "$stopping" ]; then
    say "SIG$1 again: stopping at once (SIGKILL to the server, immediate shutdown of PostgreSQL)"
    hurry=1
    if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    return 0
  fi
  say "SIG$1 received"
  exit "$2"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
trap stop EXIT

# Runs a command in the background and waits for it: bash runs a trap only once a foreground command has finished,
# while a wait returns at once.
run() {
  local status=0
  "$@" {lock}>&- &
  child=$!
  wait "$child" || status=$?
  child=""
  return "$status"
}

# --- What an earlier run left running --------------------------------------------------------------------------------
# No other runner holds the lock, so a server or PostgreSQL still running on this data directory was left by a run
# that could not stop it (killed with SIGKILL, or an earlier version of this script whose terminal was closed): it is
# stopped, and this run starts afresh with its own settings.
if [ -s "$server_pidfile" ]; then
  old="$(<"$server_pidfile")"
  if alive "$old" && grep -qzxF "PortHistory__Auth__BootstrapTokenFile=$token_file" "/proc/$old/environ" 2>/dev/null; then
    say "stopping the server an earlier run left running (pid $old)"
    end_process "$old" 30
  fi
  rm -f "$server_pidfile"
fi

# --- PostgreSQL: install if missing, create the cluster once, start it --------------------------------------------
as_root() { if [ -n "$is_root" ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; exit 1; fi; }
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  say "installing PostgreSQL (apt-get install postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
if [ -n "$is_root" ] && ! runuser -u postgres -- test -x "$data"; then
  echo "PostgreSQL runs as the postgres user, which cannot enter $data: make it and its parents searchable (chmod o+x)" >&2
  exit 1
fi
# A Unix socket's path has at most 107 bytes.
if [ $((${#pgrun} + 17)) -gt 107 ]; then
  echo "$pgrun is too long a path for PostgreSQL's socket: choose a shorter --data" >&2
  exit 1
fi
mkdir -p "$pgrun"
touch "$pglog"
if [ -n "$is_root" ]; then chown postgres:postgres "$pgrun" "$pglog"; fi

if [ -f "$pgdata/PG_VERSION" ] && pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  say "stopping the PostgreSQL an earlier run left running"
  pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null
fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  say "creating the PostgreSQL cluster in $pgdata"
  mkdir -p "$pgdata"
  if [ -n "$is_root" ]; then chown postgres:postgres "$pgdata"; fi
  chmod 700 "$pgdata"
  pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
elif grep -qE '^[[:space:]]*(local|host)[^#]*[[:space:]]trust([[:space:]]|$)' "$pgdata/pg_hba.conf"; then
  say "this cluster let every local user in as its superuser (trust, from an earlier version of this script):"
  say "switching it to peer authentication on its Unix socket, the server to a role of its own"
fi

# Written at every start, so that the rules follow whoever runs the script. Peer authentication on the Unix socket, and
# no TCP listener: an OS user gets only the roles pg_ident.conf maps it to. The cluster's owner (postgres when run as
# root) administers it; the user running this script gets the server's role, porthistory, which owns the porthistory
# database and is no superuser, so the server cannot read files or run programs as the postgres user.
pg_owner=postgres; [ -n "$is_root" ] || pg_owner="$(id -un)"
cat >"$pgdata/pg_hba.conf" <<EOF
# Written by deploy/run-local.sh at every start: edits are lost.
# TYPE  DATABASE  USER  METHOD
local   all       all   peer map=runlocal
EOF
cat >"$pgdata/pg_ident.conf" <<EOF
# Written by deploy/run-local.sh at every start: edits are lost.
# MAP     OS USER  ROLE
runlocal  $pg_owner  postgres
runlocal  $(id -un)  porthistory
EOF
if [ -n "$is_root" ]; then chown postgres:postgres "$pgdata/pg_hba.conf" "$pgdata/pg_ident.conf"; fi
# The socket's directory: the cluster's owner (and root) only.
chmod 700 "$pgrun"

started_pg=1
pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 \
  -o "-p $pg_port -c listen_addresses='' -k '$pgrun' -c max_connections=200" start >/dev/null
psql_admin() { pg "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgrun" -p "$pg_port" -U postgres "$@"; }
psql_admin -d postgres >/dev/null <<'SQL'
SELECT 'CREATE ROLE porthistory LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'porthistory') \gexec
ALTER ROLE porthistory LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE DATABASE porthistory OWNER porthistory' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'porthistory') \gexec
ALTER DATABASE porthistory OWNER TO porthistory;
SQL
# Earlier versions of this script ran the server as the superuser, which then owns its tables: they go to porthistory.
psql_admin -d porthistory >/dev/null <<'SQL'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND c.relowner <> 'porthistory'::regrole
           ORDER BY c.relkind IN ('r', 'p') DESC
  LOOP
    -- A sequence that belongs to a table's column went over with its table.
    CONTINUE WHEN (SELECT relowner FROM pg_class WHERE oid = r.name) = 'porthistory'::regrole;
    EXECUTE format('ALTER %s %s OWNER TO porthistory',
      CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND p.proowner <> 'porthistory'::regrole
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO porthistory', r.name);
  END LOOP;
END
$$;
SQL
say "PostgreSQL on its Unix socket in $pgrun, port $pg_port (data in $pgdata)"

# --- Build and start the server ------------------------------------------------------------------------------
server_dll="$repo/src/PortHistory.Server/bin/$configuration/net10.0/PortHistory.Server.dll"
cli_dll="$repo/src/PortHistory.Cli/bin/$configuration/net10.0/porthistory.dll"
agent_dll="$repo/src/PortHistory.Agent/bin/$configuration/net10.0/porthistory-agent.dll"
if [ -n "$build" ]; then
  say "building"
  for project in PortHistory.Server PortHistory.Cli PortHistory.Agent; do
    run dotnet build -c "$configuration" -v q -nologo "$repo/src/$project" >"$data/build.log" 2>&1 \
      || { cat "$data/build.log" >&2; say "building $project failed (output above)"; exit 1; }
  done
else
  for dll in "$server_dll" "$cli_dll"; do
    [ -f "$dll" ] || { say "--no-build: $dll is missing (build it first)"; exit 1; }
  done
fi

# The server keeps a valid admin token in this file (creating it, mode 600, when missing or revoked).
export PortHistory__Auth__BootstrapTokenFile="$token_file"
export ConnectionStrings__PortHistory="Host=$pgrun;Port=$pg_port;Database=porthistory;Username=porthistory;Maximum Pool Size=64"
export Kestrel__Endpoints__Grpc__Url="$url"
export Kestrel__Endpoints__Http__Url="http://127.0.0.1:$http_port"
# In a session of its own: the terminal's signals (Ctrl-C, hang-up) reach this script only, which stops the server
# before PostgreSQL. setsid execs in place here (a background job is no group leader), so $! is the server.
setsid dotnet "$server_dll" {lock}>&- </dev/null &
server_pid=$!
echo "$server_pid" >"$server_pidfile"

server_exited() {
  local status=0
  wait "$server_pid" || status=$?
  if [ "$status" -gt 128 ]; then
    say "the server exited, killed by SIG$(kill -l "$status" 2>/dev/null || echo "$((status - 128))"); see its output above"
  else
    say "the server exited with status $status; see its output above"
  fi
  exit 1
}

# The token reaches the CLI in its environment, never on a command line, which every local user can read (ps). The
# CLI replaces run's background subshell (exec), so that stopping that process stops the CLI.
with_token() { PORTHISTORY_TOKEN="$(<"$token_file")" exec "$@"; }
porthistory() { run with_token dotnet "$cli_dll" --server "$url" "$@"; }

deadline=$((SECONDS + 120))
until [ -s "$token_file" ] && porthistory editions >/dev/null 2>&1; do
  alive "$server_pid" || server_exited
  [ "$SECONDS" -lt "$deadline" ] || { say "the server did not become ready in 2 minutes; see its output above"; exit 1; }
  run sleep 0.5
done
say "server SERVING on $url (HTTP/JSON on http://127.0.0.1:$http_port)"

# --- Editions ------------------------------------------------------------------------------------------------
if [ -n "$import" ] && [ -z "$editions" ]; then
  if run curl -fsS --max-time 5 -o /dev/null https://www.iana.org/ 2>/dev/null; then
    editions="$data/downloads"
    mkdir -p "$editions"
    say "no editions given: downloading the official ones into $editions"
    run curl -fsS --max-time 120 -o "$editions/service-names-port-numbers.xml" \
      https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml
    for rfc in 990 1010 1060 1340 1700; do
      run curl -fsS --max-time 60 -o "$editions/rfc$rfc.txt" "https://www.rfc-editor.org/rfc/rfc$rfc.txt" || say "could not fetch RFC $rfc"
    done
  else
    say "offline and no editions given (--editions DIR or PORTHISTORY_EDITIONS): serving what the database already holds"
  fi
fi
if [ -n "$import" ] && [ -n "$editions" ]; then
  say "importing editions from $editions"
  porthistory import "$editions" || say "some editions were not imported (see above)"
fi

porthistory editions || true
cat <<MSG

PortHistory is running on $url.
Admin token: in $token_file (mode 600).

Try, in another terminal:
  export PORTHISTORY_SERVER=$url PORTHISTORY_TOKEN=\$(cat $token_file)
  alias porthistory='dotnet $cli_dll'
  porthistory port 776
  porthistory timeline 771
  porthistory service wpages
  porthistory diff iana-xml-2024-04-30 iana-xml-2026-08-17 --ports 0-1023
  porthistory token issue "my agent" --role agent
  porthistory discrepancies --verdict squatter
  porthistory token issue "agent \$(hostname)" --role agent --json | jq -r .token > agent-token
  dotnet $agent_dll --server $url --token-file agent-token --once
  grpcurl -plaintext -expand-headers -H 'authorization: Bearer \${PORTHISTORY_TOKEN}' -d '{"port": 776}' 127.0.0.1:$grpc_port porthistory.v1.PortRegistry/GetPort
  psql -h $pgrun -p $pg_port -U porthistory porthistory

Ctrl-C stops the server and PostgreSQL.
MSG
# Returns only when the server ends by itself: a signal to this script runs its trap, which exits.
server_exited
