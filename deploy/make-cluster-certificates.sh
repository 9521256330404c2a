#!/usr/bin/env bash
# Creates the certificates of a PortHistory cluster's mutual TLS in DIR (default ./cluster-tls):
#   ca.crt, ca.key   the cluster's own certificate authority (keep ca.key offline; it issues nothing else)
#   tls.crt, tls.key a certificate every silo presents, issued by that authority
# Then, for Kubernetes:
#   kubectl -n porthistory create secret generic porthistory-cluster-tls \
#     --from-file=DIR/ca.crt --from-file=DIR/tls.crt --from-file=DIR/tls.key
# Silos accept exactly the certificates this authority issued; renew by running again (new authority) and rolling
# the deployment, or by issuing a new tls.crt from the same ca.key.
set -euo pipefail
dir="${1:-cluster-tls}"
days="${DAYS:-365}"
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=porthistory cluster authority" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=porthistory silo" \
  -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
extensions="$dir/tls.ext"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' > "$extensions"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" \
  -extfile "$extensions" -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$extensions" "$dir/ca.srl"
chmod 644 "$dir/ca.crt" "$dir/tls.crt"
echo "created $dir/ca.crt, $dir/ca.key (keep offline), $dir/tls.crt, $dir/tls.key"
