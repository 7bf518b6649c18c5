#!/usr/bin/python3
"""Write a kubeadm-certs Secret (YAML for the API stand-in) whose values are AES-256-GCM
encrypted the way kubeadm's upload-certs does (FORMATS.md: 12-byte nonce || ciphertext ||
16-byte tag, no AAD), with python3-cryptography, independently of kubevet's code.

usage: kubeadm_certs.py KEY_HEX OWNER_TOKEN_ID OWNER_UID CREATED > secret.yaml
Exit 2 when python3-cryptography is missing (the caller skips)."""
import base64
import os
import sys

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit(2)

key = bytes.fromhex(sys.argv[1])
owner, uid, created = sys.argv[2], sys.argv[3], sys.argv[4]
aes = AESGCM(key)
out = [
    "apiVersion: v1",
    "kind: Secret",
    "type: Opaque",
    "metadata:",
    "  name: kubeadm-certs",
    "  namespace: kube-system",
    "  creationTimestamp: '%s'" % created,
    "  ownerReferences:",
    "  - apiVersion: v1",
    "    kind: Secret",
    "    name: bootstrap-token-%s" % owner,
    "    uid: %s" % uid,
    "    controller: true",
    "    blockOwnerDeletion: true",
    "data:",
]
for name in ("ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key",
             "etcd-ca.crt", "etcd-ca.key"):
    nonce = os.urandom(12)
    blob = nonce + aes.encrypt(nonce, ("test payload for %s\n" % name).encode() * 20, None)
    out.append("  %s: %s" % (name, base64.b64encode(blob).decode()))
print("\n".join(out))
