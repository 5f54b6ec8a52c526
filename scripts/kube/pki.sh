# shellcheck shell=bash
# Certificates, keys and kubeconfigs for `cluster.sh up`, made with openssl under $PKI.
# Source it (from cluster.sh); do not run it. Each cluster gets its own CA: nothing is reused
# across `down`/`up`.

PKI_DAYS=3650

# pki_ca NAME CN: a self-signed CA, $PKI/NAME.{key,crt}.
pki_ca() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$1.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days "$PKI_DAYS" \
    -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$PKI/$1.crt" 2>/dev/null ||
    bb_die "openssl could not create the $1 CA"
}

# pki_cert NAME CN ORG KIND [SAN]: EC P-256 key + certificate signed by the CA named in
# $PKI_SIGNER (default: the cluster CA).
# KIND is server, client or both (extended key usage); ORG may be empty; SAN is an openssl
# subjectAltName value such as "IP:127.0.0.1,DNS:localhost".
pki_cert() {
  local name="$1" cn="$2" org="$3" kind="$4" san="${5:-}"
  local subj="/CN=$cn" eku ext="$PKI/$1.ext"
  [ -n "$org" ] && subj="/O=$org$subj"
  case "$kind" in
    server) eku=serverAuth ;;
    client) eku=clientAuth ;;
    both) eku=serverAuth,clientAuth ;;
    *) bb_die "pki_cert: bad kind $kind" ;;
  esac
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  local ca="${PKI_SIGNER:-ca}"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial \
    -days "$PKI_DAYS" -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null ||
    bb_die "openssl could not sign the $name certificate"
  rm -f "$PKI/$name.csr" "$ext"
}

# pki_kubeconfig NAME USER: $KUBE_STATE/NAME.kubeconfig for the client cert $PKI/NAME.crt.
pki_kubeconfig() {
  local name="$1" user="$2"
  cat >"$KUBE_STATE/$name.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: bot-bottle
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$name.crt")
    client-key-data: $(base64 -w0 "$PKI/$name.key")
contexts:
- name: bot-bottle
  context:
    cluster: bot-bottle
    user: $user
current-context: bot-bottle
KUBECONFIG
  chmod 600 "$KUBE_STATE/$name.kubeconfig"
}

# pki_make HOST_IP: the whole cluster PKI. Idempotent within one state dir.
pki_make() {
  local host_ip="$1"
  [ -f "$PKI/done" ] && return 0
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  pki_ca ca bot-bottle-kube-ca
  # Request-header (front proxy) CA: the controllers and scheduler expect it in the API server's
  # extension-apiserver-authentication ConfigMap, and aggregated APIs need it.
  pki_ca front-proxy-ca bot-bottle-kube-front-proxy-ca
  PKI_SIGNER=front-proxy-ca pki_cert front-proxy-client front-proxy-client "" client

  # etcd listens on loopback only, with TLS and client certificates all the same; its server
  # certificate is also a client one because etcd dials its own client port (gRPC gateway).
  pki_cert etcd-server etcd "" both "IP:127.0.0.1,DNS:localhost"
  pki_cert etcd-client kube-apiserver-etcd-client "" client
  pki_cert apiserver kube-apiserver "" server \
    "IP:127.0.0.1,IP:$host_ip,IP:$SERVICE_IP_API,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The API server calls the kubelet (logs, exec) as a cluster admin.
  pki_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
  pki_cert admin kubernetes-admin system:masters client
  pki_cert controller-manager system:kube-controller-manager "" client
  pki_cert scheduler system:kube-scheduler "" client
  pki_cert kube-proxy system:kube-proxy "" client
  # The Node authorizer only trusts system:node:<name> in group system:nodes.
  pki_cert kubelet "system:node:$NODE_NAME" system:nodes client
  pki_cert kubelet-server "$NODE_NAME" "" server "IP:$host_ip,IP:127.0.0.1,DNS:$NODE_NAME"
  # kube-router has no dedicated role: it reads pods, namespaces and policies cluster-wide.
  pki_cert kube-router kube-router system:masters client
  # Service-account tokens are signed by the controller-manager and checked by the API server.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key

  pki_kubeconfig admin kubernetes-admin
  pki_kubeconfig controller-manager system:kube-controller-manager
  pki_kubeconfig scheduler system:kube-scheduler
  pki_kubeconfig kube-proxy system:kube-proxy
  pki_kubeconfig kubelet "system:node:$NODE_NAME"
  pki_kubeconfig kube-router kube-router
  touch "$PKI/done"
}
