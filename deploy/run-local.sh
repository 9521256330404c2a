#!/usr/bin/env bash
# Runs PortHistory for real on this machine: a local PostgreSQL (created on first run, data kept in .data/ in the
# repository), the server (Orleans silo + gRPC gateway on 127.0.0.1:7710, HTTP/JSON on 127.0.0.1:7711), and an import
# of registry editions.
#
#   deploy/run-local.sh [--editions DIR] [--port 7710] [--http-port 7711] [--pg-port 55432]
#
# Editions come from --editions DIR, else $PORTHISTORY_EDITIONS, else (when online) the official IANA and RFC
# Editor URLs; offline with none given, the server serves what its database already holds. Ctrl-C stops it all.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
editions="${PORTHISTORY_EDITIONS:-}"
grpc_port="${PORTHISTORY_PORT:-7710}"
http_port="${PORTHISTORY_HTTP_PORT:-7711}"
pg_port="${PORTHISTORY_PG_PORT:-55432}"
while [ $# -gt 0 ]; do
  case "$1" in
    --editions) editions="$2"; shift 2 ;;
    --port) grpc_port="$2"; shift 2 ;;
    --http-port) http_port="$2"; shift 2 ;;
    --pg-port) pg_port="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

data="$repo/.data"
pgdata="$data/postgres"
pgrun="$data/run"
pglog="$data/postgres.log"
url="http://127.0.0.1:$grpc_port"
mkdir -p "$data" "$pgrun"

say() { printf '\033[1mporthistory:\033[0m %s\n' "$*"; }

# --- PostgreSQL: install if missing, create the cluster once, start it ---------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "need root for: $*" >&2; exit 1; fi; }
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  say "installing PostgreSQL (apt-get install postgresql)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
# initdb and postgres refuse to run as root: as root they run as the postgres user.
pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pgrun"; touch "$pglog"; chown postgres:postgres "$pglog"; fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  say "creating the PostgreSQL cluster in $pgdata"
  mkdir -p "$pgdata"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pgdata"; fi
  chmod 700 "$pgdata"
  pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
  pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog" -w -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pgrun -c max_connections=200" start >/dev/null
fi
say "PostgreSQL on 127.0.0.1:$pg_port (data in $pgdata)"

server_pid=""
stop() {
  trap - INT TERM EXIT
  trap '' PIPE  # the terminal may be gone; stopping must not die on a write
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping the server"
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  say "stopping PostgreSQL"
  pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop INT TERM EXIT

# --- Build and start the server ------------------------------------------------------------------------------
say "building"
dotnet build -c Release -v q -nologo "$repo/src/PortHistory.Server" >/dev/null
dotnet build -c Release -v q -nologo "$repo/src/PortHistory.Cli" >/dev/null
dotnet build -c Release -v q -nologo "$repo/src/PortHistory.Agent" >/dev/null
porthistory=(dotnet "$repo/src/PortHistory.Cli/bin/Release/net10.0/porthistory.dll")

# The server keeps a valid admin token in this file (creating it, mode 600, when missing or revoked).
token_file="$data/admin-token"
export PortHistory__Auth__BootstrapTokenFile="$token_file"
export ConnectionStrings__PortHistory="Host=127.0.0.1;Port=$pg_port;Database=porthistory;Username=postgres;Maximum Pool Size=64"
export Kestrel__Endpoints__Grpc__Url="$url"
export Kestrel__Endpoints__Http__Url="http://127.0.0.1:$http_port"
dotnet "$repo/src/PortHistory.Server/bin/Release/net10.0/PortHistory.Server.dll" &
server_pid=$!
ready=""
for _ in $(seq 1 240); do
  if [ -s "$token_file" ] && "${porthistory[@]}" --server "$url" --token "$(cat "$token_file")" editions >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited; see its output above" >&2; exit 1; }
  sleep 0.5
done
[ -n "$ready" ] || { echo "the server did not become ready in 2 minutes; see its output above" >&2; exit 1; }
token="$(cat "$token_file")"
cli=("${porthistory[@]}" --server "$url" --token "$token")
say "server SERVING on $url (HTTP/JSON on http://127.0.0.1:$http_port)"

# --- Editions ------------------------------------------------------------------------------------------------
if [ -z "$editions" ]; then
  if curl -fsS --max-time 5 -o /dev/null https://www.iana.org/ 2>/dev/null; then
    editions="$data/downloads"
    mkdir -p "$editions"
    say "no editions given: downloading the official ones into $editions"
    curl -fsS --max-time 120 -o "$editions/service-names-port-numbers.xml" \
      https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml
    for rfc in 990 1010 1060 1340 1700; do
      curl -fsS --max-time 60 -o "$editions/rfc$rfc.txt" "https://www.rfc-editor.org/rfc/rfc$rfc.txt" || say "could not fetch RFC $rfc"
    done
  else
    say "offline and no editions given (--editions DIR or PORTHISTORY_EDITIONS): serving what the database already holds"
  fi
fi
if [ -n "$editions" ]; then
  say "importing editions from $editions"
  "${cli[@]}" import "$editions" || say "some editions were not imported (see above)"
fi

"${cli[@]}" editions || true
cat <<MSG

PortHistory is running on $url.
Admin token (kept in $token_file): $token

Try, in another terminal:
  export PORTHISTORY_SERVER=$url PORTHISTORY_TOKEN=\$(cat $token_file)
  alias porthistory='dotnet $repo/src/PortHistory.Cli/bin/Release/net10.0/porthistory.dll'
  porthistory port 776
  porthistory timeline 771
  porthistory service wpages
  porthistory diff iana-xml-2024-04-30 iana-xml-2026-08-17 --ports 0-1023
  porthistory token issue "my agent" --role agent
  porthistory discrepancies --verdict squatter
  dotnet $repo/src/PortHistory.Agent/bin/Release/net10.0/porthistory-agent.dll --server $url \\
      --token "\$(porthistory token issue "agent \$(hostname)" --role agent --json | jq -r .token)" --once
  grpcurl -plaintext -H "authorization: Bearer \$(cat $token_file)" -d '{"port": 776}' 127.0.0.1:$grpc_port porthistory.v1.PortRegistry/GetPort

Ctrl-C stops the server and PostgreSQL.
MSG
wait "$server_pid"
