#!/bin/sh
# Regenerates tests/data/pki (long-lived so tests never depend on "now"). Run it from this folder.
# tests/unit/test_pki.c pins a few values (apiserver.crt SHA-256, ec.crt serial): update them after.
set -e
D=36500
cat > ext-leaf.cnf <<'X'
[v3]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:*.svc.example.com,IP:10.96.0.1,IP:0:0:0:0:0:0:0:1,IP:2001:db8:0:0:0:0:0:10,IP:192.168.1.10
X
cat > ext-ca.cnf <<'X'
[v3]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
X
cat > ext-client.cnf <<'X'
[v3]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
X
# RSA CA "kubernetes" and an impostor with the same name and another key.
openssl genrsa -traditional -out ca.key 2048 2>/dev/null
openssl req -x509 -new -key ca.key -subj /CN=kubernetes -days $D -sha256 -out ca.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl genrsa -traditional -out other-ca.key 2048 2>/dev/null
openssl req -x509 -new -key other-ca.key -subj /CN=kubernetes -days $D -sha256 -out other-ca.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
# RSA leaf (PKCS#1 key, and the same key as PKCS#8).
openssl genrsa -traditional -out apiserver.key 2048 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in apiserver.key -out apiserver-pkcs8.key
openssl req -new -key apiserver.key -subj /CN=kube-apiserver -out /tmp/apiserver.csr
openssl x509 -req -in /tmp/apiserver.csr -CA ca.crt -CAkey ca.key -set_serial 0x1a2b3c \
  -days $D -sha256 -extfile ext-leaf.cnf -extensions v3 -out apiserver.crt 2>/dev/null
openssl x509 -in apiserver.crt -outform der -out apiserver.der
# Client cert with two O values.
openssl ecparam -name prime256v1 -genkey -noout -out client.key
openssl req -new -key client.key -subj "/O=system:masters/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" -out /tmp/client.csr
openssl x509 -req -in /tmp/client.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days $D -sha256 \
  -extfile ext-client.cnf -extensions v3 -out client.crt 2>/dev/null
# EC P-256: SEC1 key with parameters block, cert; also PKCS#8 form.
openssl ecparam -name prime256v1 -genkey -out ec.key
openssl pkcs8 -topk8 -nocrypt -in ec.key -out ec-pkcs8.key
openssl req -x509 -new -key ec.key -subj /CN=ec-ca -days $D -sha256 -out ec.crt \
  -addext basicConstraints=critical,CA:TRUE
# EC P-384.
openssl ecparam -name secp384r1 -genkey -noout -out ec384.key
openssl req -x509 -new -key ec384.key -subj /CN=ec384 -days $D -sha384 -out ec384.crt
# Ed25519.
openssl genpkey -algorithm ed25519 -out ed25519.key
openssl req -x509 -new -key ed25519.key -subj /CN=ed25519 -days $D -out ed25519.crt
# SHA-1 signed leaf.
openssl req -new -key apiserver.key -subj /CN=sha1-leaf -out /tmp/sha1.csr
openssl x509 -req -in /tmp/sha1.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days $D -sha1 \
  -out sha1.crt 2>/dev/null
# Service-account key pair (and a public key of another pair); RSA PUBLIC KEY (PKCS#1).
openssl genrsa -traditional -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
openssl rsa -in sa.key -RSAPublicKey_out -out sa-pkcs1.pub 2>/dev/null
openssl rsa -in other-ca.key -pubout -out other.pub 2>/dev/null
# Root -> intermediate -> leaf (partial chains).
openssl req -new -key ec.key -subj "/CN=intermediate/O=kubevet" -out /tmp/int.csr
openssl x509 -req -in /tmp/int.csr -CA ca.crt -CAkey ca.key -set_serial 4 -days $D -sha256 \
  -extfile ext-ca.cnf -extensions v3 -out intermediate.crt 2>/dev/null
openssl req -new -key ed25519.key -subj /CN=etcd-peer -out /tmp/peer.csr
openssl x509 -req -in /tmp/peer.csr -CA intermediate.crt -CAkey ec.key -set_serial 5 -days $D \
  -sha256 -extfile ext-leaf.cnf -extensions v3 -out peer.crt 2>/dev/null
# A bundle with text around, an unknown block, a CSR, certs and a key.
{ echo "subject=CN = kube-apiserver"; cat apiserver.crt; echo; cat ca.crt;
  openssl ecparam -name prime256v1; cat /tmp/apiserver.csr; cat apiserver.key; } > bundle.pem
rm -f ext-leaf.cnf ext-ca.cnf ext-client.cnf
# DER keys and an encrypted key (which we refuse: it needs a passphrase).
openssl pkey -in ed25519.key -outform der -out ed25519-key.der
openssl pkey -in sa.key -pubout -outform der -out sa-pub.der
openssl pkcs8 -topk8 -in ec.key -passout pass:kubevet -out encrypted.key
# A leaf without authorityKeyIdentifier: with another key under the CA's name the verifier then
# gets as far as the signature ("certificate signature failure").
printf '[v3]\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n' > ext-noakid.cnf
openssl req -new -key client.key -subj /CN=no-akid -out /tmp/noakid.csr
openssl x509 -req -in /tmp/noakid.csr -CA ca.crt -CAkey ca.key -set_serial 6 -days $D -sha256 \
  -extfile ext-noakid.cnf -extensions v3 -out noakid.crt 2>/dev/null
rm -f ext-noakid.cnf
