#!/usr/bin/env bash
# mknode.sh - build a kubeadm-shaped node root for tests, with the openssl CLI only.
#
# Nothing here uses kubevet's own code: fixtures are what kubeadm (>= 1.29) and the kubelet
# leave on a control-plane node, so kubevet is judged against an independent picture of it.
#
# As a command:
#   tests/lib/mknode.sh DIR [options] [--mutate "NAME ARGS..."]...
# As a library:
#   . tests/lib/mknode.sh
#   mknode DIR [options]          # builds DIR (the node root, what kubevet gets as --root)
#   mut_<name> DIR [args...]      # applies one hazard (see "Mutations" below)
# Every public function runs in a subshell with `set -e` and returns non-zero on failure.
# Bash ignores `set -e` inside a function called from `if`, `||` or `&&`: call them as plain
# commands and test $? afterwards.
#
# Options (defaults in brackets):
#   --name N               node name [master-1]
#   --ip IP                advertise address [10.0.0.11]
#   --endpoint HOST[:PORT] controlPlaneEndpoint; kubeconfigs then point at it and the apiserver
#                          cert carries HOST as a SAN [none: kubeconfigs use https://IP:6443]
#   --cert-sans A,B        extra apiServer.certSANs (DNS names or IPs)
#   --ca-dir DIR           reuse ca.*, front-proxy-ca.*, etcd/ca.*, sa.* from another root (or its
#                          etc/kubernetes/pki): a second control-plane node of the same cluster.
#                          Such a node is TLS-bootstrapped, so its kubelet client key is ECDSA.
#   --hostname H           content of etc/hostname [the node name]
#   --hostname-override N  write --hostname-override=N into var/lib/kubelet/kubeadm-flags.env
#   --days N               leaf lifetime in days [365];  --ca-days N  CA lifetime [3650]
#   --not-before WHEN / --not-after WHEN
#                          leaf validity (WHEN: +20d, -400d, -2h, +30m, or YYYYMMDDHHMMSSZ)
#   --kubelet-key rsa|ec   key type of the kubelet client cert [rsa on an init node, ec with --ca-dir]
#   --version V            Kubernetes version in manifests and kubeadm-flags [v1.29.4]
#
# Mutations (each makes exactly one hazard; DIR is the node root):
#   kubelet_other_node DIR OTHER [OTHER_ROOT]  kubelet-client-current.pem -> OTHER's client pem,
#                                  copied from OTHER_ROOT, or from DIR/../OTHER made with the same CA
#                                  (KV_FULL_OTHER=1: a full second master there) (incident 1, KV106)
#   apiserver_no_lb_san DIR        re-issue apiserver.crt without the controlPlaneEndpoint (KV107)
#   set_endpoint DIR HOST[:PORT]   as if built with --endpoint (apiserver cert re-issued, same key)
#   point_kubeconfigs_at DIR URL   every kubeconfig's server: URL (e.g. a new LB, incident 5)
#   new_front_proxy_ca DIR         mint a new front-proxy-ca.*; front-proxy-client stays signed by
#                                  the old one (incident 3, KV108/KV104)
#   kubeconfig_other_ca DIR CONF   CONF's certificate-authority-data from another "kubernetes" CA (KV108)
#   redate DIR LEAF START END      re-issue LEAF (apiserver, etcd/server, ...) with other dates
#   expired_leaf DIR [LEAF]        LEAF expired yesterday (KV101)
#   expiring_leaf DIR LEAF DAYS    LEAF expires in DAYS days (KV102)
#   not_yet_valid DIR [LEAF]       LEAF valid from the day after tomorrow (KV103)
#   chain_broken DIR [LEAF]        LEAF signed by another CA with the same name (KV104)
#   key_mismatch DIR [LEAF]        LEAF.key replaced by another key (KV105)
#   sa_mismatch DIR                sa.pub from another key (KV105)
#   ca_expiring DIR [CA] [DAYS]    CA (etcd/ca) re-issued, same key, DAYS [200] left (KV109)
#   rotation_off DIR               rotateCertificates: false in var/lib/kubelet/config.yaml (KV110)
#   kubelet_embedded_cert DIR      kubelet.conf embeds client-certificate-data (KV110)
#   weak_rsa DIR [LEAF]            LEAF re-keyed with RSA-1024 (KV111)
#   weak_sha1 DIR [LEAF]           LEAF re-signed with SHA-1 (KV111)
#   set_hostname DIR NAME          etc/hostname
#   set_hostname_override DIR NAME kubeadm-flags.env --hostname-override (NAME "" removes it)
#   bad_empty DIR [FILE]           FILE (etc/kubernetes/pki/apiserver.crt) emptied
#   bad_truncate DIR [FILE]        FILE cut in the middle of its PEM body
#   bad_b64 DIR [CONF] [FIELD]     garbage base64 in CONF's (admin.conf) FIELD (client-certificate-data)
#   symlink_escape DIR             kubelet-client-current.pem -> ../../../../../../etc/x, which leaves
#                                  DIR; a valid-looking pem is planted where it lands outside DIR
#   symlink_escape_abs DIR         kubelet-client-current.pem -> an absolute host path outside DIR
#                                  (a valid pem is there; under DIR the path does not exist)
#   dir_symlink_escape DIR         var/lib/kubelet/pki itself is a link climbing out of DIR
#   relative_current_link DIR      kubelet-client-current.pem -> kubelet-client-<date>.pem (relative; fine)
#   kubelet_bootstrap_names DIR    kubelet.conf names as after TLS bootstrap (default-auth, ...)
#   kubelet_extra_user DIR OTHER [current]  a second user (OTHER's cert) in kubelet.conf; "current"
#                                  makes its context the current one
#   rotation_flag_only DIR         rotation on via --rotate-certificates, not config.yaml
#   kubeconfig_client_other_ca DIR CONF  CONF's client cert from another "kubernetes" CA (KV104)
#   unreadable DIR [FILE]          chmod 000 FILE (apiserver.key); writes DIR/../SKIP when the
#                                  current user can still read it (root)
#   ca_replaced DIR [CA]           CA (ca) and its key re-created with the same name now; every leaf
#                                  stays signed by the original (incident 3's panic renewal, KV108)
#   ca_key_removed DIR [CA]        CA.key (ca) deleted: kubeadm's external CA mode
#   copied_from DIR NAME IP LEAF.. LEAF (etcd/server, etcd/peer, apiserver) re-issued by the same CA
#                                  for node NAME at IP, as if copied from that master (KV112)
#   copied_cert_only DIR NAME IP LEAF  as copied_from, but only LEAF.crt came over (key stays) (KV112/KV105)
#   apiserver_sans DIR LIST        apiserver.crt re-issued (same key) with only the SANs in LIST (KV107)
#   remove DIR FILE                delete FILE (etc/kubernetes/scheduler.conf) (KV106)
#   dangling_current DIR           delete the file kubelet-client-current.pem points at (KV110)
#   weak_both DIR [LEAF]           LEAF re-keyed with RSA-1024 and signed with SHA-1 (KV111)
#   hostile_name DIR               an expired certificate under pki/ whose file name holds ESC [2J
# Build parameters are kept in DIR/.mknode/params (kubevet never reads that path).

KV_MKNODE_LIB="${BASH_SOURCE[0]}"

# ---- low-level helpers ------------------------------------------------------------------

# _kv_when SPEC -> YYYYMMDDHHMMSSZ (UTC)
_kv_when() {
    local s=$1
    case $s in
    [+-][0-9]*d) date -u -d "now ${s%d} days" +%Y%m%d%H%M%SZ ;;
    [+-][0-9]*h) date -u -d "now ${s%h} hours" +%Y%m%d%H%M%SZ ;;
    [+-][0-9]*m) date -u -d "now ${s%m} minutes" +%Y%m%d%H%M%SZ ;;
    [0-9]*Z) printf '%s\n' "$s" ;;
    *) date -u -d "$s" +%Y%m%d%H%M%SZ ;;
    esac
}

# _kv_key OUT [rsa|rsa1024|ec]
# RSA-2048 generation dominates build time (~0.3 s a key). With KV_KEY_POOL set (see
# kv_keypool_start), a key made ahead of time is taken instead; each pooled key is handed out
# once (rename), so no two keys of any fixture are ever the same.
_kv_key() {
    local out=$1 type=${2:-rsa} f
    if [ "$type" = rsa ] && [ -n "${KV_KEY_POOL:-}" ] && [ -d "$KV_KEY_POOL/ready" ]; then
        for f in "$KV_KEY_POOL"/ready/*.pem; do
            [ -e "$f" ] || break
            if mv "$f" "$out" 2>/dev/null; then
                chmod 600 "$out"
                return 0
            fi
        done
    fi
    (
        umask 077
        case $type in
        rsa) openssl genrsa -traditional -out "$out" 2048 2>/dev/null ;;
        rsa1024) openssl genrsa -traditional -out "$out" 1024 2>/dev/null ;;
        # SEC1 "EC PRIVATE KEY", as the kubelet writes it.
        ec) openssl ecparam -name prime256v1 -genkey -noout -out "$out" ;;
        *) echo "mknode: unknown key type $type" >&2; exit 1 ;;
        esac
    )
}

# kv_keypool_start DIR N: make N RSA-2048 keys in DIR/ready in the background (one process,
# so it uses one core while fixtures are built on the other). Prints the producer's pid.
kv_keypool_start() {
    local dir=$1 n=$2
    mkdir -p "$dir/ready" "$dir/tmp"
    (
        i=0
        while [ $i -lt "$n" ] && [ -d "$dir/tmp" ]; do
            i=$((i + 1))
            (umask 077 && openssl genrsa -traditional -out "$dir/tmp/$i.pem" 2048 2>/dev/null) || break
            mv "$dir/tmp/$i.pem" "$dir/ready/$BASHPID-$i.pem" 2>/dev/null || break
        done
    ) >/dev/null 2>&1 &
    echo $!
}

# _kv_cert OUT KEY SUBJ EXTTEXT SIGNER_CRT SIGNER_KEY START END [MD]
# SIGNER_CRT empty = self-signed. START/END: YYYYMMDDHHMMSSZ. `openssl ca` because it is
# the one openssl 3.0 command that takes arbitrary notBefore/notAfter (no -not_before yet).
_kv_cert() {
    local out=$1 key=$2 subj=$3 ext=$4 scrt=$5 skey=$6 start=$7 end=$8 md=${9:-sha256}
    local t
    t=$(mktemp -d) || return 1
    printf '%s\n' "[ ca ]" "default_ca = d" "[ d ]" "database = $t/index.txt" "new_certs_dir = $t" \
        "serial = $t/serial" "rand_serial = yes" "default_md = $md" "policy = p" "unique_subject = no" \
        "copy_extensions = none" "email_in_dn = no" "[ p ]" "commonName = optional" >"$t/ca.cnf"
    : >"$t/index.txt"
    printf '%b\n' "$ext" >"$t/ext"
    local rc=0
    openssl req -new -key "$key" -subj "/CN=csr" -out "$t/req.csr" 2>"$t/err" || rc=1
    if [ $rc = 0 ]; then
        if [ -z "$scrt" ]; then
            openssl ca -batch -config "$t/ca.cnf" -selfsign -keyfile "$key" -in "$t/req.csr" \
                -out "$t/out.crt" -notext -startdate "$start" -enddate "$end" -md "$md" \
                -extfile "$t/ext" -subj "$subj" -preserveDN >"$t/err" 2>&1 || rc=1
        else
            openssl ca -batch -config "$t/ca.cnf" -cert "$scrt" -keyfile "$skey" -in "$t/req.csr" \
                -out "$t/out.crt" -notext -startdate "$start" -enddate "$end" -md "$md" \
                -extfile "$t/ext" -subj "$subj" -preserveDN >"$t/err" 2>&1 || rc=1
        fi
    fi
    if [ $rc = 0 ]; then
        # with -notext, openssl ca writes the PEM block alone
        mv -f "$t/out.crt" "$out"
    else
        echo "mknode: signing $subj failed:" >&2
        cat "$t/err" >&2
    fi
    rm -rf "$t"
    return $rc
}

_kv_ext_ca() {
    printf '%s' 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nsubjectKeyIdentifier=hash'
}

# _kv_ext_leaf USAGE [SANS]  USAGE: server | client | serverclient
_kv_ext_leaf() {
    local usage=$1 sans=${2:-} eku
    case $usage in
    server) eku=serverAuth ;;
    client) eku=clientAuth ;;
    serverclient) eku=serverAuth,clientAuth ;;
    esac
    printf '%s' "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=$eku\nauthorityKeyIdentifier=keyid"
    [ -n "$sans" ] && printf '%s' "\nsubjectAltName=$sans"
    return 0
}

# comma list of names/IPs -> "DNS:a,IP:b"
_kv_sans() {
    local out="" x
    local IFS=,
    for x in $1; do
        [ -z "$x" ] && continue
        if [[ $x =~ ^[0-9.]+$ || $x == *:* ]]; then out+="${out:+,}IP:$x"; else out+="${out:+,}DNS:$x"; fi
    done
    printf '%s' "$out"
}

_kv_b64() { base64 -w0 <"$1"; }

# _kv_resolve ROOT REL -> REL with symlinks followed the way kubevet must: absolute targets
# under ROOT. Used so that mutations never touch a file of the host running the tests.
_kv_resolve() {
    local root=$1 p=$1/$2 t n=0
    while [ -L "$p" ] && [ $n -lt 8 ]; do
        t=$(readlink "$p")
        case $t in /*) p=$root$t ;; *) p=$(dirname "$p")/$t ;; esac
        n=$((n + 1))
    done
    printf '%s\n' "$p"
}

# _kv_current_pem ROOT -> the file kubelet-client-current.pem points at, read under ROOT
_kv_current_pem() {
    local d=$1/var/lib/kubelet/pki t
    t=$(readlink "$d/kubelet-client-current.pem") || return 1
    case $t in
    /*) printf '%s%s\n' "$1" "$t" ;;
    *) printf '%s/%s\n' "$d" "$t" ;;
    esac
}

_kv_root_ok() { # refuse to mutate anything that is not a node root
    [ -n "$1" ] && [ -d "$1/etc" ] && [ -d "$1/var/lib/kubelet" ] && return 0
    echo "mknode: '$1' is not a node root" >&2
    return 1
}

_kv_params() { # load DIR/.mknode/params into KV_* variables
    # shellcheck disable=SC1090,SC1091
    . "$1/.mknode/params"
}

_kv_endpoint_host() { # HOST[:PORT] -> HOST  ([v6]:port aware)
    local e=$1
    case $e in
    \[*\]*) e=${e#\[}; printf '%s' "${e%%\]*}" ;;
    *:*) printf '%s' "${e%%:*}" ;;
    *) printf '%s' "$e" ;;
    esac
}

_kv_server_url() { # endpoint ip -> https://host:port
    local ep=$1 ip=$2
    if [ -n "$ep" ]; then
        case $ep in
        *:[0-9]*) printf 'https://%s' "$ep" ;;
        *) printf 'https://%s:6443' "$ep" ;;
        esac
    else
        printf 'https://%s:6443' "$ip"
    fi
}

# kubeadm's apiserver SANs for the current params; $1=1 leaves the endpoint host out.
_kv_apiserver_sans() {
    local no_ep=${1:-0} list
    list="$KV_NAME,kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local,10.96.0.1,$KV_IP"
    if [ "$no_ep" != 1 ] && [ -n "$KV_ENDPOINT" ]; then list+=",$(_kv_endpoint_host "$KV_ENDPOINT")"; fi
    [ -n "$KV_CERT_SANS" ] && list+=",$KV_CERT_SANS"
    _kv_sans "$list"
}

# _kv_leaf_spec LEAF: sets SPEC_CA SPEC_SUBJ SPEC_EXT for a kubeadm leaf under pki/.
_kv_leaf_spec() {
    local no_ep=${2:-0}
    case $1 in
    apiserver)
        SPEC_CA=ca SPEC_SUBJ=/CN=kube-apiserver
        SPEC_EXT=$(_kv_ext_leaf server "$(_kv_apiserver_sans "$no_ep")") ;;
    apiserver-kubelet-client)
        SPEC_CA=ca SPEC_SUBJ="/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client"
        SPEC_EXT=$(_kv_ext_leaf client) ;;
    front-proxy-client)
        SPEC_CA=front-proxy-ca SPEC_SUBJ=/CN=front-proxy-client SPEC_EXT=$(_kv_ext_leaf client) ;;
    apiserver-etcd-client)
        SPEC_CA=etcd/ca SPEC_SUBJ="/O=system:masters/CN=kube-apiserver-etcd-client"
        SPEC_EXT=$(_kv_ext_leaf client) ;;
    etcd/server | etcd/peer)
        SPEC_CA=etcd/ca SPEC_SUBJ="/CN=$KV_NAME"
        SPEC_EXT=$(_kv_ext_leaf serverclient "$(_kv_sans "$KV_NAME,localhost,$KV_IP,127.0.0.1,::1")") ;;
    etcd/healthcheck-client)
        SPEC_CA=etcd/ca SPEC_SUBJ="/O=system:masters/CN=kube-etcd-healthcheck-client"
        SPEC_EXT=$(_kv_ext_leaf client) ;;
    *) echo "mknode: unknown leaf $1" >&2; return 1 ;;
    esac
}

KV_LEAVES="apiserver apiserver-kubelet-client front-proxy-client apiserver-etcd-client etcd/server etcd/peer etcd/healthcheck-client"

# _kv_issue_leaf ROOT LEAF [START END] — (re)issue with the existing key if there is one.
# Env knobs: KV_ISSUE_MD (sha256), KV_ISSUE_NO_EP (1 = apiserver without endpoint SAN),
# KV_ISSUE_CA_CRT/KV_ISSUE_CA_KEY (sign with another CA).
_kv_issue_leaf() {
    local root=$1 leaf=$2 start=${3:-} end=${4:-} pki
    pki=$root/etc/kubernetes/pki
    _kv_leaf_spec "$leaf" "${KV_ISSUE_NO_EP:-0}" || return 1
    [ -n "$start" ] || start=$(_kv_when "$KV_LEAF_START")
    [ -n "$end" ] || end=$(_kv_when "$KV_LEAF_END")
    [ -f "$pki/$leaf.key" ] || _kv_key "$pki/$leaf.key" || return 1
    _kv_cert "$pki/$leaf.crt" "$pki/$leaf.key" "$SPEC_SUBJ" "$SPEC_EXT" \
        "${KV_ISSUE_CA_CRT:-$pki/$SPEC_CA.crt}" "${KV_ISSUE_CA_KEY:-$pki/$SPEC_CA.key}" \
        "$start" "$end" "${KV_ISSUE_MD:-sha256}"
}

# _kv_mkca CRT KEY CN DAYS [START] — new self-signed CA (key created when absent)
_kv_mkca() {
    local crt=$1 key=$2 cn=$3 days=$4 start=${5:--1h}
    [ -f "$key" ] || _kv_key "$key" || return 1
    _kv_cert "$crt" "$key" "/CN=$cn" "$(_kv_ext_ca)" "" "" "$(_kv_when "$start")" "$(_kv_when "+${days}d")"
}

# _kv_client_pair DIR BASE SUBJ CA_CRT CA_KEY [keytype] -> DIR/BASE.crt, DIR/BASE.key
_kv_client_pair() {
    local d=$1 b=$2 subj=$3 cacrt=$4 cakey=$5 kt=${6:-rsa}
    _kv_key "$d/$b.key" "$kt" || return 1
    local ext
    if [ "$kt" = ec ]; then
        ext='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid'
    else
        ext=$(_kv_ext_leaf client)
    fi
    _kv_cert "$d/$b.crt" "$d/$b.key" "$subj" "$ext" "$cacrt" "$cakey" \
        "$(_kv_when "$KV_LEAF_START")" "$(_kv_when "$KV_LEAF_END")"
}

# _kv_kubeconfig OUT USER CA_CRT SERVER (CERT KEY | -path CERTPATH KEYPATH)
_kv_kubeconfig() {
    local out=$1 user=$2 ca=$3 server=$4 cert=$5 key=$6 keyp=${7:-}
    {
        cat <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(_kv_b64 "$ca")
    server: $server
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: $user
  name: $user@kubernetes
current-context: $user@kubernetes
kind: Config
preferences: {}
users:
- name: $user
  user:
EOF
        if [ "$cert" = -path ]; then
            printf '    client-certificate: %s\n    client-key: %s\n' "$key" "$keyp"
        else
            printf '    client-certificate-data: %s\n    client-key-data: %s\n' "$(_kv_b64 "$cert")" "$(_kv_b64 "$key")"
        fi
    } >"$out"
    chmod 600 "$out"
}

_kv_write_params() {
    local root=$1
    mkdir -p "$root/.mknode"
    {
        printf 'KV_NAME=%q\nKV_IP=%q\nKV_ENDPOINT=%q\nKV_CERT_SANS=%q\n' "$KV_NAME" "$KV_IP" "$KV_ENDPOINT" "$KV_CERT_SANS"
        printf 'KV_LEAF_START=%q\nKV_LEAF_END=%q\nKV_VERSION=%q\n' "$KV_LEAF_START" "$KV_LEAF_END" "$KV_VERSION"
    } >"$root/.mknode/params"
}

_kv_manifests() {
    local root=$1 m=$1/etc/kubernetes/manifests
    mkdir -p "$m"
    cat >"$m/kube-apiserver.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: $KV_IP:6443
  creationTimestamp: null
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=$KV_IP
    - --allow-privileged=true
    - --authorization-mode=Node,RBAC
    - --client-ca-file=/etc/kubernetes/pki/ca.crt
    - --enable-admission-plugins=NodeRestriction
    - --enable-bootstrap-token-auth=true
    - --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt
    - --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt
    - --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key
    - --etcd-servers=https://127.0.0.1:2379
    - --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt
    - --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key
    - --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
    - --proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt
    - --proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key
    - --requestheader-allowed-names=front-proxy-client
    - --requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt
    - --requestheader-extra-headers-prefix=X-Remote-Extra-
    - --requestheader-group-headers=X-Remote-Group
    - --requestheader-username-headers=X-Remote-User
    - --secure-port=6443
    - --service-account-issuer=https://kubernetes.default.svc.cluster.local
    - --service-account-key-file=/etc/kubernetes/pki/sa.pub
    - --service-account-signing-key-file=/etc/kubernetes/pki/sa.key
    - --service-cluster-ip-range=10.96.0.0/12
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
    image: registry.k8s.io/kube-apiserver:$KV_VERSION
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: $KV_IP
        path: /livez
        port: 6443
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kube-apiserver
    readinessProbe:
      failureThreshold: 3
      httpGet:
        host: $KV_IP
        path: /readyz
        port: 6443
        scheme: HTTPS
      periodSeconds: 1
      timeoutSeconds: 15
    resources:
      requests:
        cpu: 250m
    volumeMounts:
    - mountPath: /etc/ssl/certs
      name: ca-certs
      readOnly: true
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/ssl/certs
      type: DirectoryOrCreate
    name: ca-certs
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
status: {}
EOF
    local init_cluster="${KV_INITIAL_CLUSTER:-$KV_NAME=https://$KV_IP:2380}"
    cat >"$m/etcd.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://$KV_IP:2379
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://$KV_IP:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --experimental-initial-corrupt-check=true
    - --experimental-watch-progress-notify-interval=5s
    - --initial-advertise-peer-urls=https://$KV_IP:2380
    - --initial-cluster=$init_cluster
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://$KV_IP:2379
    - --listen-metrics-urls=http://127.0.0.1:2381
    - --listen-peer-urls=https://$KV_IP:2380
    - --name=$KV_NAME
    - --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=/etc/kubernetes/pki/etcd/peer.key
    - --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    image: registry.k8s.io/etcd:3.5.12-0
    imagePullPolicy: IfNotPresent
    name: etcd
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
EOF
}

_kv_kubelet_files() {
    local root=$1 override=$2 rotate=${3:-true}
    local k=$root/var/lib/kubelet
    mkdir -p "$k/pki"
    cat >"$k/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
resolvConf: /run/systemd/resolve/resolv.conf
rotateCertificates: $rotate
runtimeRequestTimeout: 0s
serverTLSBootstrap: false
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
EOF
    _kv_flags "$root" "$override"
}

_kv_flags() {
    local root=$1 override=$2 extra=""
    [ -n "$override" ] && extra=" --hostname-override=$override"
    printf 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock%s --pod-infra-container-image=registry.k8s.io/pause:3.9"\n' \
        "$extra" >"$root/var/lib/kubelet/kubeadm-flags.env"
}

# kubelet's own serving cert (serverTLSBootstrap false): a self-signed "<host>-ca@<unix>" CA
# and a "<host>@<unix>" leaf, 1 year each, written leaf-then-CA to kubelet.crt.
_kv_kubelet_serving() {
    local root=$1 host=$2 t now p
    p=$root/var/lib/kubelet/pki
    t=$(mktemp -d) || return 1
    now=$(date -u +%s)
    _kv_mkca "$t/ca.crt" "$t/ca.key" "$host-ca@$now" 365 || return 1
    _kv_key "$p/kubelet.key" || return 1
    _kv_cert "$t/leaf.crt" "$p/kubelet.key" "/CN=$host@$now" \
        "$(_kv_ext_leaf server "$(_kv_sans "$host")")" "$t/ca.crt" "$t/ca.key" \
        "$(_kv_when -1h)" "$(_kv_when +365d)" || return 1
    cat "$t/leaf.crt" "$t/ca.crt" >"$p/kubelet.crt"
    rm -rf "$t"
}

# _kv_kubelet_client ROOT NAME KEYTYPE CA_CRT CA_KEY -> var/lib/kubelet/pki/kubelet-client-<date>.pem
# (certificate then key, as the kubelet's certificate store writes it) and the
# kubelet-client-current.pem symlink (absolute target, as the kubelet makes it).
_kv_kubelet_client() {
    local root=$1 name=$2 kt=$3 cacrt=$4 cakey=$5 t p stamp
    p=$root/var/lib/kubelet/pki
    mkdir -p "$p"
    t=$(mktemp -d) || return 1
    _kv_client_pair "$t" c "/O=system:nodes/CN=system:node:$name" "$cacrt" "$cakey" "$kt" || return 1
    stamp=$(date -u +%Y-%m-%d-%H-%M-%S)
    while [ -e "$p/kubelet-client-$stamp.pem" ]; do stamp=$(date -u -d "${stamp:0:10} ${stamp:11:2}:${stamp:14:2}:${stamp:17:2} +1 second" +%Y-%m-%d-%H-%M-%S); done
    (umask 077 && cat "$t/c.crt" "$t/c.key" >"$p/kubelet-client-$stamp.pem")
    ln -sfn "/var/lib/kubelet/pki/kubelet-client-$stamp.pem" "$p/kubelet-client-current.pem"
    rm -rf "$t"
}

# ---- the builder ------------------------------------------------------------------------

mknode() (
    set -euo pipefail
    local root="" cadir="" hostname="" override="" days=365 cadays=3650 nb="" na="" kt=""
    local mutations=()
    KV_NAME=master-1 KV_IP=10.0.0.11 KV_ENDPOINT="" KV_CERT_SANS="" KV_VERSION=v1.29.4
    while [ $# -gt 0 ]; do
        case $1 in
        --name) KV_NAME=$2; shift ;;
        --ip) KV_IP=$2; shift ;;
        --endpoint) KV_ENDPOINT=$2; shift ;;
        --cert-sans) KV_CERT_SANS=$2; shift ;;
        --ca-dir) cadir=$2; shift ;;
        --hostname) hostname=$2; shift ;;
        --hostname-override) override=$2; shift ;;
        --days) days=$2; shift ;;
        --ca-days) cadays=$2; shift ;;
        --not-before) nb=$2; shift ;;
        --not-after) na=$2; shift ;;
        --kubelet-key) kt=$2; shift ;;
        --version) KV_VERSION=$2; shift ;;
        --mutate) mutations+=("$2"); shift ;;
        -h | --help) sed -n '2,/^$/p' "$KV_MKNODE_LIB" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "mknode: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$root" ] || { echo "mknode: one DIR only" >&2; exit 2; }; root=$1 ;;
        esac
        shift
    done
    [ -n "$root" ] || { echo "usage: mknode.sh DIR [options]" >&2; exit 2; }
    [ -n "$hostname" ] || hostname=$KV_NAME
    KV_LEAF_START=${nb:--1h}
    KV_LEAF_END=${na:-+${days}d}
    if [ -z "$kt" ]; then if [ -n "$cadir" ]; then kt=ec; else kt=rsa; fi; fi

    local pki=$root/etc/kubernetes/pki
    mkdir -p "$pki/etcd" "$root/etc/kubernetes/manifests" "$root/var/lib/kubelet/pki" "$root/var/lib/etcd"
    chmod 700 "$root/var/lib/etcd"
    printf '%s\n' "$hostname" >"$root/etc/hostname"
    _kv_write_params "$root"

    # CAs and the service-account key pair: shared by all control-plane nodes of a cluster.
    if [ -n "$cadir" ]; then
        [ -d "$cadir/etc/kubernetes/pki" ] && cadir=$cadir/etc/kubernetes/pki
        local f
        for f in ca.crt ca.key front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key sa.key sa.pub; do
            cp -p "$cadir/$f" "$pki/$f"
        done
    else
        _kv_mkca "$pki/ca.crt" "$pki/ca.key" kubernetes "$cadays"
        _kv_mkca "$pki/front-proxy-ca.crt" "$pki/front-proxy-ca.key" front-proxy-ca "$cadays"
        _kv_mkca "$pki/etcd/ca.crt" "$pki/etcd/ca.key" etcd-ca "$cadays"
        _kv_key "$pki/sa.key"
        openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    fi

    local leaf
    for leaf in $KV_LEAVES; do _kv_issue_leaf "$root" "$leaf"; done

    # kubeconfigs. controller-manager/scheduler point at the same server as the others here
    # (the contract of this fixture), kubelet.conf in its post-kubelet-finalize form.
    local server t
    server=$(_kv_server_url "$KV_ENDPOINT" "$KV_IP")
    t=$(mktemp -d)
    _kv_client_pair "$t" admin "/O=kubeadm:cluster-admins/CN=kubernetes-admin" "$pki/ca.crt" "$pki/ca.key"
    _kv_kubeconfig "$root/etc/kubernetes/admin.conf" kubernetes-admin "$pki/ca.crt" "$server" "$t/admin.crt" "$t/admin.key"
    _kv_client_pair "$t" super "/O=system:masters/CN=kubernetes-super-admin" "$pki/ca.crt" "$pki/ca.key"
    _kv_kubeconfig "$root/etc/kubernetes/super-admin.conf" kubernetes-super-admin "$pki/ca.crt" "$server" "$t/super.crt" "$t/super.key"
    _kv_client_pair "$t" cm "/CN=system:kube-controller-manager" "$pki/ca.crt" "$pki/ca.key"
    _kv_kubeconfig "$root/etc/kubernetes/controller-manager.conf" system:kube-controller-manager "$pki/ca.crt" "$server" "$t/cm.crt" "$t/cm.key"
    _kv_client_pair "$t" sched "/CN=system:kube-scheduler" "$pki/ca.crt" "$pki/ca.key"
    _kv_kubeconfig "$root/etc/kubernetes/scheduler.conf" system:kube-scheduler "$pki/ca.crt" "$server" "$t/sched.crt" "$t/sched.key"
    rm -rf "$t"

    _kv_kubelet_client "$root" "$KV_NAME" "$kt" "$pki/ca.crt" "$pki/ca.key"
    _kv_kubeconfig "$root/etc/kubernetes/kubelet.conf" "system:node:$KV_NAME" "$pki/ca.crt" "$server" -path \
        /var/lib/kubelet/pki/kubelet-client-current.pem /var/lib/kubelet/pki/kubelet-client-current.pem
    _kv_kubelet_serving "$root" "$hostname"
    _kv_kubelet_files "$root" "$override"
    _kv_manifests "$root"

    chmod 600 "$pki"/*.key "$pki"/etcd/*.key
    local m
    for m in ${mutations[@]+"${mutations[@]}"}; do
        # shellcheck disable=SC2086
        set -- $m
        "mut_$1" "$root" "${@:2}"
    done
)

# ---- mutations --------------------------------------------------------------------------

mut_kubelet_other_node() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 other=${2:-master-2} oroot=${3:-} ip
    _kv_params "$root"
    if [ -z "$oroot" ]; then
        oroot=$(dirname "$root")/$other
        if [ ! -d "$oroot" ] && [ "${KV_FULL_OTHER:-0}" = 1 ]; then
            ip=${KV_IP%.*}.$(( ${KV_IP##*.} + 1 ))
            local args=(--name "$other" --ip "$ip" --ca-dir "$root")
            [ -n "$KV_ENDPOINT" ] && args+=(--endpoint "$KV_ENDPOINT")
            mknode "$oroot" "${args[@]}"
        elif [ ! -d "$oroot" ]; then
            # Only what is copied: OTHER's kubelet client pem, made exactly as a full build of
            # OTHER (a TLS-bootstrapped control-plane node: ECDSA key, same cluster CA) makes
            # it. KV_FULL_OTHER=1 builds the whole second node instead.
            mkdir -p "$oroot/etc" "$oroot/var/lib/kubelet/pki"
            _kv_kubelet_client "$oroot" "$other" ec "$root/etc/kubernetes/pki/ca.crt" "$root/etc/kubernetes/pki/ca.key"
        fi
    fi
    local src base
    src=$(_kv_current_pem "$oroot")
    base=$(basename "$src")
    if [ -e "$root/var/lib/kubelet/pki/$base" ]; then # same second as this node's own pem
        local n=1
        while [ -e "$root/var/lib/kubelet/pki/$base" ]; do
            base=kubelet-client-$(date -u -d "now + $n seconds" +%Y-%m-%d-%H-%M-%S).pem
            n=$((n + 1))
        done
    fi
    # The other node's pem keeps its own (later) timestamp, so it becomes "current".
    cp -p "$src" "$root/var/lib/kubelet/pki/$base"
    ln -sfn "/var/lib/kubelet/pki/$base" "$root/var/lib/kubelet/pki/kubelet-client-current.pem"
)

mut_apiserver_no_lb_san() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1
    _kv_params "$root"
    [ -n "$KV_ENDPOINT" ] || { echo "apiserver_no_lb_san: root was built without --endpoint" >&2; exit 1; }
    rm -f "$root/etc/kubernetes/pki/apiserver.key"
    KV_ISSUE_NO_EP=1 _kv_issue_leaf "$root" apiserver
)

mut_point_kubeconfigs_at() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 url=$2 f
    for f in admin super-admin controller-manager scheduler kubelet; do
        [ -f "$root/etc/kubernetes/$f.conf" ] || continue
        sed -i "s|^    server: .*|    server: $url|" "$root/etc/kubernetes/$f.conf"
    done
)

mut_set_endpoint() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1
    _kv_params "$root"
    # What a build with --endpoint HOST[:PORT] gives: apiserver cert (same key) with HOST as a
    # SAN, every kubeconfig pointing at the endpoint.
    KV_ENDPOINT=$2
    _kv_write_params "$root"
    _kv_issue_leaf "$root" apiserver
    mut_point_kubeconfigs_at "$root" "$(_kv_server_url "$KV_ENDPOINT" "$KV_IP")"
)

mut_new_front_proxy_ca() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki
    rm -f "$pki/front-proxy-ca.crt" "$pki/front-proxy-ca.key"
    # Minted now: younger than the front-proxy-client it is supposed to have signed.
    _kv_mkca "$pki/front-proxy-ca.crt" "$pki/front-proxy-ca.key" front-proxy-ca 3650 +0m
    chmod 600 "$pki/front-proxy-ca.key"
)

mut_kubeconfig_other_ca() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 conf=${2:-controller-manager.conf} t
    t=$(mktemp -d)
    _kv_mkca "$t/ca.crt" "$t/ca.key" kubernetes 3650
    sed -i "s|^    certificate-authority-data: .*|    certificate-authority-data: $(_kv_b64 "$t/ca.crt")|" \
        "$root/etc/kubernetes/$conf"
    rm -rf "$t"
)

mut_redate() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 leaf=$2
    _kv_params "$root"
    _kv_issue_leaf "$root" "$leaf" "$(_kv_when "$3")" "$(_kv_when "$4")"
)

mut_expired_leaf() ( set -e; _kv_root_ok "$1"; mut_redate "$1" "${2:-apiserver}" -400d -1d; )
mut_expiring_leaf() ( set -e; _kv_root_ok "$1"; mut_redate "$1" "${2:-apiserver}" -300d "+$(( ${3:-20} * 24 + 2 ))h"; )
mut_not_yet_valid() ( set -e; _kv_root_ok "$1"; mut_redate "$1" "${2:-apiserver}" +2d +367d; )

mut_chain_broken() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 leaf=${2:-apiserver} t
    _kv_params "$root"
    _kv_leaf_spec "$leaf"
    t=$(mktemp -d)
    # Another CA with the same subject as the one the leaf belongs to.
    _kv_mkca "$t/ca.crt" "$t/ca.key" "$(openssl x509 -in "$root/etc/kubernetes/pki/$SPEC_CA.crt" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')" 3650
    KV_ISSUE_CA_CRT=$t/ca.crt KV_ISSUE_CA_KEY=$t/ca.key _kv_issue_leaf "$root" "$leaf"
    rm -rf "$t"
)

mut_key_mismatch() (
    set -euo pipefail
    _kv_root_ok "$1"
    local key=$1/etc/kubernetes/pki/${2:-apiserver}.key
    rm -f "$key"
    _kv_key "$key"
)

mut_sa_mismatch() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki t
    t=$(mktemp -d)
    _kv_key "$t/k"
    openssl rsa -in "$t/k" -pubout -out "$pki/sa.pub" 2>/dev/null
    rm -rf "$t"
)

mut_ca_expiring() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki ca=${2:-etcd/ca} days=${3:-200} cn
    cn=$(openssl x509 -in "$pki/$ca.crt" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
    # Same key and name: everything it signed still verifies; only its notAfter moves.
    _kv_cert "$pki/$ca.crt" "$pki/$ca.key" "/CN=$cn" "$(_kv_ext_ca)" "" "" "$(_kv_when -1h)" "$(_kv_when "+${days}d")"
)

mut_rotation_off() (
    set -euo pipefail
    _kv_root_ok "$1"
    sed -i 's/^rotateCertificates: .*/rotateCertificates: false/' "$1/var/lib/kubelet/config.yaml"
)

mut_kubelet_embedded_cert() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 pem t
    pem=$(_kv_current_pem "$root")
    t=$(mktemp -d)
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$pem" >"$t/c"
    sed -n '/-----BEGIN .*PRIVATE KEY-----/,/-----END .*PRIVATE KEY-----/p' "$pem" >"$t/k"
    sed -i -e "s|^    client-certificate: .*|    client-certificate-data: $(_kv_b64 "$t/c")|" \
        -e "s|^    client-key: .*|    client-key-data: $(_kv_b64 "$t/k")|" "$root/etc/kubernetes/kubelet.conf"
    rm -rf "$t"
)

mut_weak_rsa() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 leaf=${2:-front-proxy-client}
    _kv_params "$root"
    rm -f "$root/etc/kubernetes/pki/$leaf.key"
    _kv_key "$root/etc/kubernetes/pki/$leaf.key" rsa1024
    _kv_issue_leaf "$root" "$leaf"
)

mut_weak_sha1() (
    set -euo pipefail
    _kv_root_ok "$1"
    _kv_params "$1"
    KV_ISSUE_MD=sha1 _kv_issue_leaf "$1" "${2:-apiserver-kubelet-client}"
)

mut_set_hostname() ( set -e; _kv_root_ok "$1"; printf '%s\n' "$2" >"$1/etc/hostname"; )
mut_set_hostname_override() ( set -e; _kv_root_ok "$1"; _kv_flags "$1" "${2:-}"; )

mut_bad_empty() ( set -e; _kv_root_ok "$1"; : >"$(_kv_resolve "$1" "${2:-etc/kubernetes/pki/apiserver.crt}")"; )

mut_bad_truncate() (
    set -euo pipefail
    _kv_root_ok "$1"
    local f n
    f=$(_kv_resolve "$1" "${2:-etc/kubernetes/pki/apiserver.crt}")
    n=$(wc -c <"$f")
    head -c $(( n / 2 )) "$f" >"$f.tmp" && mv "$f.tmp" "$f"
)

mut_bad_b64() (
    set -euo pipefail
    _kv_root_ok "$1"
    local conf=$1/etc/kubernetes/${2:-admin.conf} field=${3:-client-certificate-data}
    # A plain YAML scalar of the right length with characters outside the base64 alphabet
    # (a value starting with "!!" would be a YAML tag with an empty value instead).
    sed -i "s|^\(    $field:\) .*|\1 Zm9v~~bm90%%YmFzZTY0|" "$conf"
)

mut_symlink_escape() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 p=$1/var/lib/kubelet/pki land
    # Six levels up from var/lib/kubelet/pki is two levels above the root.
    land=$(cd "$root/../.." && pwd)/etc/x
    mkdir -p "$(dirname "$land")"
    cp "$(_kv_current_pem "$root")" "$land"
    ln -sfn ../../../../../../etc/x "$p/kubelet-client-current.pem"
)

mut_symlink_escape_abs() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 p=$1/var/lib/kubelet/pki land
    # An absolute target must be read under the root (DIR + target), never on the host: a
    # valid-looking pem for system:node:<name> waits at the same absolute path on the host.
    land=$(cd "$root/../.." && pwd)/etc/x
    mkdir -p "$(dirname "$land")"
    cp "$(_kv_current_pem "$root")" "$land"
    ln -sfn "$land" "$p/kubelet-client-current.pem"
)

mut_dir_symlink_escape() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 out
    # var/lib/kubelet/pki is a link that climbs out of the root (the last path component is a
    # plain file): confinement must hold for every component, not just the last one.
    out=$(cd "$root/.." && pwd)/kubelet-pki-outside
    rm -rf "$out"
    mv "$root/var/lib/kubelet/pki" "$out"
    ln -s ../../../../kubelet-pki-outside "$root/var/lib/kubelet/pki"
)

mut_relative_current_link() (
    set -euo pipefail
    _kv_root_ok "$1"
    local p=$1/var/lib/kubelet/pki t
    # kubelet-client-current.pem -> kubelet-client-<date>.pem (relative, inside the root): legal.
    t=$(basename "$(_kv_current_pem "$1")")
    ln -sfn "$t" "$p/kubelet-client-current.pem"
)

mut_kubelet_bootstrap_names() (
    set -euo pipefail
    _kv_root_ok "$1"
    local c=$1/etc/kubernetes/kubelet.conf u
    # kubelet.conf as the TLS bootstrap writes it on joined nodes: default-auth / default-cluster
    # / default-context; the identity is only in the certificate.
    u=$(sed -n 's/^- name: //p' "$c" | head -n 1)
    sed -i -e "s|^  name: kubernetes$|  name: default-cluster|" -e "s|^    cluster: kubernetes$|    cluster: default-cluster|" \
        -e "s|^    user: $u$|    user: default-auth|" -e "s|^  name: $u@kubernetes$|  name: default-context|" \
        -e "s|^current-context: .*|current-context: default-context|" -e "s|^- name: $u$|- name: default-auth|" "$c"
)

# kubelet_extra_user DIR OTHER [current]: add a context+user for OTHER (OTHER's cert embedded).
# With "current" that context becomes current-context (KV106); without, it is a stale leftover.
mut_kubelet_extra_user() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 other=${2:-master-2} cur=${3:-} c=$1/etc/kubernetes/kubelet.conf t
    _kv_params "$root"
    t=$(mktemp -d)
    _kv_client_pair "$t" o "/O=system:nodes/CN=system:node:$other" "$root/etc/kubernetes/pki/ca.crt" \
        "$root/etc/kubernetes/pki/ca.key" ec || exit 1
    /usr/bin/env awk -v other="$other" -v crt="$(_kv_b64 "$t/o.crt")" -v key="$(_kv_b64 "$t/o.key")" '
        /^current-context:/ { print "- context:\n    cluster: kubernetes\n    user: system:node:" other "\n  name: system:node:" other "@kubernetes" }
        { print }
        END { print "- name: system:node:" other "\n  user:\n    client-certificate-data: " crt "\n    client-key-data: " key }
    ' "$c" >"$t/conf"
    cat "$t/conf" >"$c"
    [ "$cur" = current ] && sed -i "s|^current-context: .*|current-context: system:node:$other@kubernetes|" "$c"
    rm -rf "$t"
)

mut_rotation_flag_only() (
    set -euo pipefail
    _kv_root_ok "$1"
    # No rotateCertificates in config.yaml, --rotate-certificates on the kubelet command line.
    sed -i '/^rotateCertificates:/d' "$1/var/lib/kubelet/config.yaml"
    sed -i 's|^KUBELET_KUBEADM_ARGS="|KUBELET_KUBEADM_ARGS="--rotate-certificates=true |' "$1/var/lib/kubelet/kubeadm-flags.env"
)

# kubeconfig_client_other_ca DIR CONF: CONF's client cert re-issued by another "kubernetes" CA
mut_kubeconfig_client_other_ca() (
    set -euo pipefail
    _kv_root_ok "$1"
    local c=$1/etc/kubernetes/${2:-admin.conf} t subj
    _kv_params "$1"
    t=$(mktemp -d)
    grep '^    client-certificate-data:' "$c" | awk '{print $2}' | base64 -d >"$t/old.crt"
    subj=/$(openssl x509 -in "$t/old.crt" -noout -subject -nameopt compat | sed 's/^subject=\///')
    _kv_mkca "$t/ca.crt" "$t/ca.key" kubernetes 3650 || exit 1
    _kv_client_pair "$t" n "$subj" "$t/ca.crt" "$t/ca.key" ec || exit 1
    sed -i -e "s|^    client-certificate-data: .*|    client-certificate-data: $(_kv_b64 "$t/n.crt")|" \
        -e "s|^    client-key-data: .*|    client-key-data: $(_kv_b64 "$t/n.key")|" "$c"
    rm -rf "$t"
)

mut_unreadable() (
    set -euo pipefail
    _kv_root_ok "$1"
    local f
    f=$(_kv_resolve "$1" "${2:-etc/kubernetes/pki/apiserver.key}")
    chmod 000 "$f"
    if head -c1 "$f" >/dev/null 2>&1; then
        echo "running as uid $(id -u): chmod 000 does not stop reads" >"$(dirname "$1")/SKIP"
    fi
)

mut_ca_replaced() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki ca=${2:-ca} cn
    cn=$(openssl x509 -in "$pki/$ca.crt" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
    rm -f "$pki/$ca.crt" "$pki/$ca.key"
    # Minted now: younger than every leaf it is supposed to have signed.
    _kv_mkca "$pki/$ca.crt" "$pki/$ca.key" "$cn" 3650 +0m
    chmod 600 "$pki/$ca.key"
)

mut_ca_key_removed() ( set -e; _kv_root_ok "$1"; rm -f "$1/etc/kubernetes/pki/${2:-ca}.key"; )

mut_copied_from() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 name=$2 ip=$3 leaf
    shift 3
    _kv_params "$root"
    # What another master's files look like here: its name and address, the cluster's CA.
    KV_NAME=$name KV_IP=$ip
    for leaf in "$@"; do
        rm -f "$root/etc/kubernetes/pki/$leaf.key"
        _kv_issue_leaf "$root" "$leaf"
    done
)

mut_copied_cert_only() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 name=$2 ip=$3 leaf=$4 t keep
    _kv_params "$root"
    # Only the .crt came over: this node's key stays, so they no longer pair.
    t=$(mktemp -d)
    keep=$root/etc/kubernetes/pki/$leaf.key
    mv "$keep" "$t/keep.key"
    KV_NAME=$name KV_IP=$ip _kv_issue_leaf "$root" "$leaf"
    mv -f "$t/keep.key" "$keep"
    rm -rf "$t"
)

mut_apiserver_sans() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki
    _kv_params "$1"
    _kv_cert "$pki/apiserver.crt" "$pki/apiserver.key" /CN=kube-apiserver \
        "$(_kv_ext_leaf server "$(_kv_sans "$2")")" "$pki/ca.crt" "$pki/ca.key" \
        "$(_kv_when "$KV_LEAF_START")" "$(_kv_when "$KV_LEAF_END")"
)

mut_remove() ( set -e; _kv_root_ok "$1"; rm -f "$1/$2"; )

mut_dangling_current() (
    set -euo pipefail
    _kv_root_ok "$1"
    rm -f "$(_kv_current_pem "$1")"
)

mut_weak_both() (
    set -euo pipefail
    _kv_root_ok "$1"
    local root=$1 leaf=${2:-front-proxy-client}
    _kv_params "$root"
    rm -f "$root/etc/kubernetes/pki/$leaf.key"
    _kv_key "$root/etc/kubernetes/pki/$leaf.key" rsa1024
    KV_ISSUE_MD=sha1 _kv_issue_leaf "$root" "$leaf"
)

mut_hostile_name() (
    set -euo pipefail
    _kv_root_ok "$1"
    local pki=$1/etc/kubernetes/pki t
    t=$(mktemp -d)
    _kv_key "$t/k"
    _kv_cert "$pki/evil"$'\e'"[2Jname.crt" "$t/k" "/CN=evil"$'\e'"]0;pwned"$'\a' "$(_kv_ext_leaf client)" \
        "$pki/ca.crt" "$pki/ca.key" "$(_kv_when -400d)" "$(_kv_when -1d)"
    rm -rf "$t"
)

# ---- command-line entry -----------------------------------------------------------------
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    mknode "$@"
fi
