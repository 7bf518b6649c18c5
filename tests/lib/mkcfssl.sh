#!/usr/bin/env bash
# mkcfssl.sh - the hand-built PKI of incident 4, made with cfssl/cfssljson (Debian golang-cfssl).
#
#   tests/lib/mkcfssl.sh DIR [--workers worker-1,worker-2] [--node worker-1] [--embed]
# or, sourced:  . tests/lib/mkcfssl.sh; mkcfssl DIR [options]
#
# Builds:
#   DIR/cfssl/  cfssl output as an operator leaves it: ca.pem, ca-key.pem, ca.csr (5-year CA,
#               `cfssl gencert -initca` with "expiry": "43800h"), kubernetes{,-key}.pem (apiserver,
#               profile "kubernetes", 43800h), and per worker <w>{,-key}.pem / <w>.csr (kubelet client
#               certs, profile "kubelet", 8760h = 1 year, CN system:node:<w>, O system:nodes),
#               plus the JSON inputs (ca-config.json, *-csr.json) — not certificates.
#   DIR/root/   the node root of --node (first worker by default): etc/hostname,
#               etc/kubernetes/pki/ca.crt (= ca.pem), var/lib/kubelet/pki/<w>{,-key}.pem,
#               etc/kubernetes/kubelet.conf pointing at them (--embed: embeds them as -data), and
#               var/lib/kubelet/config.yaml without rotateCertificates (kubelet's default: false);
#               no kubeadm-flags.env. Rotation is therefore not in effect (KV110).
# All certificates start now, so `--at` one year + 1 day later finds the kubelet certs expired
# (KV101) and the CA and apiserver cert still valid.

mkcfssl() (
    set -euo pipefail
    local dir="" workers=worker-1,worker-2 node="" embed=0
    while [ $# -gt 0 ]; do
        case $1 in
        --workers) workers=$2; shift ;;
        --node) node=$2; shift ;;
        --embed) embed=1 ;;
        -h | --help) sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "mkcfssl: unknown option $1" >&2; exit 2 ;;
        *) dir=$1 ;;
        esac
        shift
    done
    [ -n "$dir" ] || { echo "usage: mkcfssl.sh DIR [options]" >&2; exit 2; }
    command -v cfssl >/dev/null && command -v cfssljson >/dev/null ||
        { echo "mkcfssl: cfssl and cfssljson are needed (Debian: golang-cfssl)" >&2; exit 1; }
    [ -n "$node" ] || node=${workers%%,*}

    local c=$dir/cfssl
    mkdir -p "$c"
    cd "$c"
    cat >ca-config.json <<'EOF'
{
  "signing": {
    "default": { "expiry": "8760h" },
    "profiles": {
      "kubernetes": {
        "usages": ["signing", "key encipherment", "server auth", "client auth"],
        "expiry": "43800h"
      },
      "kubelet": {
        "usages": ["signing", "key encipherment", "client auth"],
        "expiry": "8760h"
      }
    }
  }
}
EOF
    cat >ca-csr.json <<'EOF'
{
  "CN": "kubernetes",
  "key": { "algo": "rsa", "size": 2048 },
  "names": [{ "C": "US", "L": "Portland", "O": "Kubernetes", "OU": "CA", "ST": "Oregon" }],
  "ca": { "expiry": "43800h" }
}
EOF
    cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca

    cat >kubernetes-csr.json <<'EOF'
{
  "CN": "kubernetes",
  "hosts": ["10.32.0.1", "10.240.0.10", "127.0.0.1", "kubernetes", "kubernetes.default",
            "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
  "key": { "algo": "rsa", "size": 2048 },
  "names": [{ "C": "US", "L": "Portland", "O": "Kubernetes", "OU": "Kubernetes The Hard Way", "ST": "Oregon" }]
}
EOF
    cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=kubernetes \
        kubernetes-csr.json 2>/dev/null | cfssljson -bare kubernetes

    local w i=20 IFS=,
    for w in $workers; do
        i=$((i + 1))
        cat >"$w-csr.json" <<EOF
{
  "CN": "system:node:$w",
  "hosts": ["$w", "10.240.0.$i"],
  "key": { "algo": "rsa", "size": 2048 },
  "names": [{ "C": "US", "L": "Portland", "O": "system:nodes", "OU": "Kubernetes The Hard Way", "ST": "Oregon" }]
}
EOF
        cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=kubelet \
            "$w-csr.json" 2>/dev/null | cfssljson -bare "$w"
    done
    unset IFS
    [ -f "$node.pem" ] || { echo "mkcfssl: --node $node is not among --workers" >&2; exit 1; }

    local r=$dir/root
    mkdir -p "$r/etc/kubernetes/pki" "$r/var/lib/kubelet/pki"
    printf '%s\n' "$node" >"$r/etc/hostname"
    cp ca.pem "$r/etc/kubernetes/pki/ca.crt"
    cp "$node.pem" "$node-key.pem" "$r/var/lib/kubelet/pki/"
    chmod 600 "$r/var/lib/kubelet/pki/$node-key.pem"
    {
        cat <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 <ca.pem)
    server: https://10.240.0.10:6443
  name: kubernetes-the-hard-way
contexts:
- context:
    cluster: kubernetes-the-hard-way
    user: system:node:$node
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: system:node:$node
  user:
EOF
        if [ $embed = 1 ]; then
            printf '    client-certificate-data: %s\n    client-key-data: %s\n' \
                "$(base64 -w0 <"$node.pem")" "$(base64 -w0 <"$node-key.pem")"
        else
            printf '    client-certificate: /var/lib/kubelet/pki/%s.pem\n    client-key: /var/lib/kubelet/pki/%s-key.pem\n' "$node" "$node"
        fi
    } >"$r/etc/kubernetes/kubelet.conf"
    chmod 600 "$r/etc/kubernetes/kubelet.conf"
    cat >"$r/var/lib/kubelet/config.yaml" <<'EOF'
kind: KubeletConfiguration
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: "/etc/kubernetes/pki/ca.crt"
authorization:
  mode: Webhook
clusterDomain: "cluster.local"
clusterDNS:
  - "10.32.0.10"
podCIDR: "10.200.0.0/24"
resolvConf: "/run/systemd/resolve/resolv.conf"
runtimeRequestTimeout: "15m"
EOF
)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    mkcfssl "$@"
fi
