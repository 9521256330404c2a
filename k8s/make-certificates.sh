#!/usr/bin/env bash
# Creates the TLS certificates of a PortHistory installation's services in DIR (default ./service-tls):
#   ca.crt, ca.key             the services' own certificate authority (keep ca.key offline)
#   server.crt, server.key     the server's gRPC and HTTP/JSON endpoints, named after the porthistory Service
#   postgres.crt, postgres.key PostgreSQL, named after the porthistory-postgres Service
# NAMESPACE (default porthistory) is the namespace of the Services; SERVER_NAMES adds DNS names to the server's
# certificate, comma-separated (e.g. the name of a load balancer in front of it). Then, for Kubernetes:
#   kubectl -n porthistory create secret tls porthistory-server-tls --cert=DIR/server.crt --key=DIR/server.key
#   kubectl -n porthistory create secret tls porthistory-postgres-tls --cert=DIR/postgres.crt --key=DIR/postgres.key
#   kubectl -n porthistory create configmap porthistory-service-ca --from-file=ca.crt=DIR/ca.crt
# This authority is not the cluster's (deploy/make-cluster-certificates.sh): that one admits silos, and whatever it
# issues becomes a silo; this one only names services to their clients.
set -euo pipefail
dir="${1:-service-tls}"
namespace="${NAMESPACE:-porthistory}"
days="${DAYS:-365}"
mkdir -p "$dir"
umask 077

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=porthistory service authority" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# A certificate for Service $2 (short name, with the namespace, .svc and .svc.cluster.local) and any extra names $3.
issue() {
  local name=$1 service=$2 extra=$3 names
  names="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.cluster.local"
  if [ -n "$extra" ]; then names="$names,$(sed 's/\([^,]*\)/DNS:\1/g' <<<"$extra")"; fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$service" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$names" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" \
    -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}
issue server porthistory "${SERVER_NAMES:-}"
issue postgres porthistory-postgres ""
rm -f "$dir/ca.srl"
chmod 644 "$dir/ca.crt" "$dir/server.crt" "$dir/postgres.crt"
echo "created $dir/ca.crt, $dir/ca.key (keep offline), $dir/server.crt, $dir/server.key, $dir/postgres.crt, $dir/postgres.key"
