#!/usr/bin/env bash
# t_plan_restore.sh - the plan engine's restore path, on backup folders written by hand (so the
# format is judged independently of the code that writes it): saved files come back with their
# bytes and modes, files that did not exist are removed, the current state is backed up first,
# and hostile manifests (paths leaving the root, symlinks) are refused with exit 3.
#   KUBEVET=build/kubevet bash tests/t_plan_restore.sh
set -u
KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KUBEVET=${KUBEVET:-${KV_BUILD:-$KV_SRC/build}/kubevet}
[ -x "$KUBEVET" ] || { echo "FAIL setup: no kubevet at $KUBEVET"; echo "0 passed, 1 failed"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/kv-plan.XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$KV_SRC/tests/lib/counts.sh"

R=$W/root
mkdir -p "$R/etc/kubernetes/pki"
printf 'current cert\n' >"$R/etc/kubernetes/pki/a.crt"; chmod 644 "$R/etc/kubernetes/pki/a.crt"
printf 'added later\n' >"$R/etc/kubernetes/pki/new.crt"
B=$R/etc/kubernetes/kubevet-backup-20260101T000000Z
mkdir -p "$B/etc/kubernetes/pki"
printf 'old cert\n' >"$B/etc/kubernetes/pki/a.crt"
printf -- '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n' >"$B/etc/kubernetes/pki/a.key"
cat >"$B/MANIFEST" <<M
# written by hand for the test
backup-parent etc/kubernetes
created 20260101T000000Z
saved 0640 -1 -1 etc/kubernetes/pki/a.crt
saved 0600 -1 -1 etc/kubernetes/pki/a.key
absent etc/kubernetes/pki/new.crt
M
cp -a "$R" "$W/before"
"$KUBEVET" restore "$B" >"$W/dry" 2>&1
check "dry run exits 0" test $? = 0
check "dry run writes nothing" diff -r "$W/before" "$R"
check "dry run never shows key bytes" bash -c "! grep -q 'AAAA' '$W/dry'"
check "dry run lists the removal" grep -q 'remove etc/kubernetes/pki/new.crt' "$W/dry"
"$KUBEVET" restore "$B" -o json >"$W/dry.json" 2>&1
check "dry run json parses" /usr/bin/python3 -c "import json; d=json.load(open('$W/dry.json')); assert len(d['plan']['actions'])==3"
"$KUBEVET" restore "$B" --apply >"$W/apply" 2>&1
check "apply exits 0" test $? = 0
check "a.crt bytes back" cmp "$B/etc/kubernetes/pki/a.crt" "$R/etc/kubernetes/pki/a.crt"
check "a.crt mode 0640" test "$(stat -c %a "$R/etc/kubernetes/pki/a.crt")" = 640
check "a.key created 0600" test "$(stat -c %a "$R/etc/kubernetes/pki/a.key")" = 600
check "new.crt removed" test ! -e "$R/etc/kubernetes/pki/new.crt"
B2=$(find "$R/etc/kubernetes" -maxdepth 1 -name 'kubevet-backup-*' ! -path "$B" | head -1)
check "the state before the restore was backed up" cmp "$B2/etc/kubernetes/pki/a.crt" "$W/before/etc/kubernetes/pki/a.crt"
check "second backup lists a.key as absent" grep -qx 'absent etc/kubernetes/pki/a.key' "$B2/MANIFEST"
"$KUBEVET" restore "$B2" --apply >/dev/null 2>&1
check "restoring the second backup gives the original tree back" diff -r -x 'kubevet-backup-*' "$W/before" "$R"

# How the executor saves a file (judged with stat and cmp): the backup is the replaced file's own
# inode (a hard link: bytes, mode and mtime kept), now linked from the backup alone; a file that
# has another name too is copied instead (an in-place edit through that name must not change the
# backup). B3 is the backup the restore below makes of a fresh root before writing.
L=$W/links
mkdir -p "$L/etc/kubernetes/pki"
printf 'one\n' >"$L/etc/kubernetes/pki/a.crt"; chmod 640 "$L/etc/kubernetes/pki/a.crt"
touch -d '2020-01-02 03:04:05' "$L/etc/kubernetes/pki/a.crt"
printf 'two\n' >"$L/etc/kubernetes/pki/b.crt"
ln "$L/etc/kubernetes/pki/b.crt" "$L/b-other-name"
BL=$L/etc/kubernetes/kubevet-backup-20260101T000000Z
mkdir -p "$BL/etc/kubernetes/pki"
printf 'old one\n' >"$BL/etc/kubernetes/pki/a.crt"
printf 'old two\n' >"$BL/etc/kubernetes/pki/b.crt"
printf 'backup-parent etc/kubernetes\nsaved 0644 -1 -1 etc/kubernetes/pki/a.crt\nsaved 0644 -1 -1 etc/kubernetes/pki/b.crt\n' >"$BL/MANIFEST"
ino_a=$(stat -c %i "$L/etc/kubernetes/pki/a.crt") ino_b=$(stat -c %i "$L/etc/kubernetes/pki/b.crt")
"$KUBEVET" restore "$BL" --apply >/dev/null 2>"$W/links.err"
check "restore over linked files exits 0" test $? = 0
B3=$(find "$L/etc/kubernetes" -maxdepth 1 -name 'kubevet-backup-*' ! -path "$BL" | head -1)
check "a.crt saved as its own inode, linked from the backup alone" \
    test "$(stat -c '%i %h %a %Y' "$B3/etc/kubernetes/pki/a.crt")" = "$ino_a 1 640 $(date -d '2020-01-02 03:04:05' +%s)"
check "a.crt's saved bytes are the old ones" test "$(cat "$B3/etc/kubernetes/pki/a.crt")" = one
check "b.crt (two names) saved as a copy, not its inode" \
    test "$(stat -c %i "$B3/etc/kubernetes/pki/b.crt")" != "$ino_b"
printf 'edited in place\n' >>"$L/b-other-name"
check "an in-place edit through the other name leaves the backup as it was" \
    test "$(cat "$B3/etc/kubernetes/pki/b.crt")" = two
check "the restored files hold the backup's bytes" \
    test "$(cat "$L/etc/kubernetes/pki/a.crt" "$L/etc/kubernetes/pki/b.crt")" = "$(printf 'old one\nold two')"

# Hostile or broken backups: exit 3, one line, nothing written.
hostile() { # NAME MANIFEST-LINE [setup]
    local n=$1 line=$2
    rm -rf "$W/h"; mkdir -p "$W/h/etc/kubernetes/pki" "$W/h/etc/kubernetes/kubevet-backup-x/etc/kubernetes/pki"
    printf 'x\n' >"$W/h/etc/kubernetes/pki/a.crt"
    printf 'backup-parent etc/kubernetes\n%s\n' "$line" >"$W/h/etc/kubernetes/kubevet-backup-x/MANIFEST"
    [ -n "${3:-}" ] && eval "$3"
    cp -a "$W/h" "$W/h.before"
    "$KUBEVET" restore "$W/h/etc/kubernetes/kubevet-backup-x" --apply >/dev/null 2>"$W/h.err"
    local rc=$?
    [ $rc = 3 ] && [ "$(wc -l <"$W/h.err")" = 1 ] && ok "$n: exit 3, one line" || bad "$n: exit 3, one line" "rc=$rc $(cat "$W/h.err")"
    check "$n: nothing written" diff -r --no-dereference "$W/h.before" "$W/h"
    rm -rf "$W/h.before"
}
hostile "path leaving the root" "saved 0644 -1 -1 ../../etc/passwd"
hostile "missing saved file" "saved 0644 -1 -1 etc/kubernetes/pki/zz.crt"
hostile "unknown line" "rm -rf /"
hostile "symlinked target" "saved 0644 -1 -1 etc/kubernetes/pki/l.crt" \
    'printf "y\n" >"$W/h/etc/kubernetes/kubevet-backup-x/etc/kubernetes/pki/l.crt"; ln -s /etc/hostname "$W/h/etc/kubernetes/pki/l.crt"'
mkdir -p "$W/hp/etc/kubernetes/kubevet-backup-y"
printf 'backup-parent ../../../tmp\nabsent etc/x\n' >"$W/hp/etc/kubernetes/kubevet-backup-y/MANIFEST"
"$KUBEVET" restore "$W/hp/etc/kubernetes/kubevet-backup-y" --root "$W/hp" --apply >/dev/null 2>"$W/hp.err"
[ $? = 3 ] && grep -q 'leaves the root' "$W/hp.err" && ok "backup-parent leaving the root: exit 3" || bad "backup-parent leaving the root" "$(cat "$W/hp.err")"
mkdir -p "$W/nob"
"$KUBEVET" restore "$W/nob" >/dev/null 2>"$W/nob.err"
[ $? = 3 ] && grep -q 'not a kubevet backup' "$W/nob.err" && ok "not a backup folder: exit 3" || bad "not a backup folder: exit 3"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
