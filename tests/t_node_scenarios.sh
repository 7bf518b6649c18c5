#!/usr/bin/env bash
# ctest-peers: scenarios/peers/
# t_node_scenarios.sh - scenario tests: fixtures built at test time with openssl/cfssl only,
# judged by the real kubevet binary.
#
#   KUBEVET=build/kubevet KV_SRC=. bash tests/t_node_scenarios.sh [PATTERN...]
#
# Runs tests/scenarios/{node,bad,peers}/*.case (only names containing a PATTERN when given).
# One line per case: "ok NAME", "FAIL NAME: why" or "skip NAME: why"; then "N passed, M failed".
# KV_KEEP=1 keeps the work directory; KV_VERBOSE=1 prints kubevet's output for failed cases.
#
# Case file format (one "key: value" a line, "#" starts a comment line):
#   build:    mknode [mknode.sh options] | cfssl [mkcfssl.sh options] | empty
#   mutate:   NAME [ARGS]          a mut_NAME from tests/lib/mknode.sh; several lines apply in order
#   run:      kubevet arguments; "--root {ROOT}" and "-o json" are added unless present.
#             Placeholders: {ROOT} node root, {FIX} the folder holding it (cfssl/ output, other
#             nodes), {EMPTY} an empty folder, {PEERS} ../shared/peer-fixtures (or
#             $KV_PEER_FIXTURES), {NOW+366d} / {NOW-2h} RFC 3339 times relative to now,
#             {DATE+400d} the same as YYYY-MM-DD.
#   exit:     expected exit code
#   expect:   IDs that must appear          absent: IDs that must not appear
#   subject:  ID PATTERN[|PATTERN]   a finding with ID has a subject matching (shell glob)
#   severity: ID LEVEL               every finding with ID has that severity (and there is one)
#   no-severity: LEVEL               no finding has that severity
#   count:    N                      number of entries in "certificates"
#   cert:     FIELD VALUE            some certificate has FIELD == VALUE (case and ':' ignored)
#   stderr:   TEXT[|TEXT]            stderr contains one of them
#   stderr-lines: N                  stderr has exactly N lines
#   first:    ID                     the first finding has ID
#   before:   ID1 ID2                the first ID1 finding comes before every ID2 finding
#   cause:    ID PATTERN CAUSE       every finding with ID whose subject matches PATTERN (glob)
#                                    has "cause" matching CAUSE (glob), and there is one
#   number:   ID N                   exactly N findings with ID
#   field:    ID KEY VALUE           some finding with ID has KEY == VALUE (JSON scalar as text)
#   message:  ID TEXT                some finding with ID has TEXT in its message
#   no-message: ID TEXT              no finding with ID has TEXT in its message
#   fix:      ID TEXT                some finding with ID has TEXT in its fix
#   no-fix:   TEXT                   no finding's fix contains TEXT
#   stdout:   TEXT                   stdout contains TEXT (with "-o text" the report is not JSON)
#   no-control: stdout               stdout holds no control character but newline and tab
#   as-user:  nobody                 run as uid/gid 65534 (setpriv or runuser; skip when not root)
# Always checked: no crash (exit >= 128) or hang; exit 0/1 come with a JSON report whose
# findings carry id/name/severity/subject/message/fix and whose exit code agrees with
# --fail-on; exit 3 comes with a message on stderr; no PEM private key in any output.
set -u

KV_SRC=${KV_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [ -z "${KUBEVET:-}" ]; then
    for c in "${KV_BUILD:-/nonexistent}/kubevet" "$KV_SRC/build/kubevet"; do
        [ -x "$c" ] && { KUBEVET=$c; break; }
    done
fi
if [ -z "${KUBEVET:-}" ] || [ ! -x "$KUBEVET" ]; then
    echo "FAIL setup: no kubevet binary (set KUBEVET; tried \$KV_BUILD/kubevet and $KV_SRC/build/kubevet)"
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in openssl cfssl cfssljson python3 timeout; do
    command -v "$tool" >/dev/null || { echo "FAIL setup: $tool not found"; echo "0 passed, 1 failed"; exit 1; }
done
PEERS=${KV_PEER_FIXTURES:-${KV_SRC:-.}/../shared/peer-fixtures}
# The real interpreter, once: version-manager shims (pyenv) cost seconds per call.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PY" ] || PY=python3

# shellcheck source=lib/mknode.sh
. "$KV_SRC/tests/lib/mknode.sh"
# shellcheck source=lib/mkcfssl.sh
. "$KV_SRC/tests/lib/mkcfssl.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/kv-scenarios.XXXXXX")
POOL_PID=""
cleanup() {
    [ -n "$POOL_PID" ] && kill "$POOL_PID" 2>/dev/null
    chmod -R u+rwX "$W" 2>/dev/null
    if [ "${KV_KEEP:-0}" = 1 ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/empty" "$W/b" "$W/f" "$W/out"
export KV_KEY_POOL=$W/keypool
POOL_PID=$(kv_keypool_start "$KV_KEY_POOL" 80)

# ---- fixtures: one base per distinct build line, one copy per distinct list of mutations ----
hash_of() { printf '%s' "$1" | md5sum | cut -c1-12; }

# base_fixture BUILD -> prints the fixture dir (its root is DIR/o/p/root); builds once
base_fixture() {
    local build=$1 h d
    h=$(hash_of "$build")
    d=$W/b/$h
    if [ ! -e "$d/done" ] && [ ! -e "$d/failed" ]; then
        mkdir -p "$d/o/p"
        local words
        read -ra words <<<"$build"
        case ${words[0]:-} in
        mknode) mknode "$d/o/p/root" "${words[@]:1}" >"$d/log" 2>&1 ;;
        cfssl) mkcfssl "$d/o/p" "${words[@]:1}" >"$d/log" 2>&1 ;;
        empty) mkdir -p "$d/o/p/root" ;;
        *) echo "unknown build '${words[0]:-}'" >"$d/log"; false ;;
        esac
        if [ $? = 0 ]; then : >"$d/done"; else : >"$d/failed"; fi
    fi
    printf '%s\n' "$d"
    [ -e "$d/done" ]
}

# fixture BUILD MUTATIONS(newline-separated) -> prints dir; copies the base and mutates once
fixture() {
    local build=$1 muts=$2 base h d m
    # Never call the builders from if/||/&&: bash would switch off their `set -e`.
    base=$(base_fixture "$build")
    [ $? = 0 ] || { printf '%s\n' "$base"; return 1; }
    [ -z "$muts" ] && { printf '%s\n' "$base"; return 0; }
    h=$(hash_of "$build|$muts")
    d=$W/f/$h
    if [ ! -e "$d/done" ] && [ ! -e "$d/failed" ]; then
        mkdir -p "$d"
        cp -a "$base/o" "$d/o"
        local ok=1 words
        while IFS= read -r m; do
            [ -z "$m" ] && continue
            read -ra words <<<"$m"
            if ! declare -F "mut_${words[0]}" >/dev/null; then
                echo "unknown mutation '${words[0]}'" >>"$d/log"; ok=0; break
            fi
            "mut_${words[0]}" "$d/o/p/root" "${words[@]:1}" >>"$d/log" 2>&1
            [ $? = 0 ] || { echo "mutation '$m' failed" >>"$d/log"; ok=0; break; }
        done <<<"$muts"
        if [ $ok = 1 ]; then : >"$d/done"; else : >"$d/failed"; fi
    fi
    printf '%s\n' "$d"
    [ -e "$d/done" ]
}

subst() { # placeholders in a run line
    local s=$1 root=$2 fix=$3 n u when
    s=${s//\{ROOT\}/$root}
    s=${s//\{FIX\}/$fix}
    s=${s//\{EMPTY\}/$W/empty}
    s=${s//\{PEERS\}/$PEERS}
    while [[ $s =~ \{DATE([+-][0-9]+)d\} ]]; do
        when=$(date -u -d "now ${BASH_REMATCH[1]} days" +%Y-%m-%d)
        s=${s//"${BASH_REMATCH[0]}"/$when}
    done
    while [[ $s =~ \{NOW([+-][0-9]+)([dhm])\} ]]; do
        n=${BASH_REMATCH[1]}
        case ${BASH_REMATCH[2]} in d) u=days ;; h) u=hours ;; m) u=minutes ;; esac
        when=$(date -u -d "now $n $u" +%Y-%m-%dT%H:%M:%SZ)
        s=${s//"${BASH_REMATCH[0]}"/$when}
    done
    printf '%s' "$s"
}

# ---- assertions (python3, JSON only) ---------------------------------------------------
# One interpreter for all cases: reads the manifest written by run_case (tab-separated: name,
# status, message, case file, stdout file, stderr file, exit code, arguments joined by \x1f),
# prints one line per case in order and the summary line.
ASSERT_PY=$(cat <<'PYEOF'
import fnmatch, json, re, sys

def judge(case, out, err, rc, argv):
  probs = []
  stdout = open(out, encoding="utf-8", errors="replace").read()
  stderr = open(err, encoding="utf-8", errors="replace").read()
  LEVELS = {"info": 0, "warning": 1, "critical": 2}
  KEYS = {"build", "mutate", "run", "exit", "expect", "absent", "subject", "severity",
          "no-severity", "count", "cert", "stderr", "stderr-lines", "first", "before", "cause",
          "number", "field", "message", "no-message", "fix", "no-fix", "stdout", "no-control",
          "as-user"}
  spec = []
  for n, line in enumerate(open(case, encoding="utf-8"), 1):
      line = line.strip()
      if not line or line.startswith("#"):
          continue
      k, sep, v = line.partition(":")
      k, v = k.strip(), v.strip()
      if not sep or k not in KEYS:
          probs.append(f"case line {n}: unknown key '{k}'")
          continue
      spec.append((k, v))

  def first_line(s):
      s = s.strip().splitlines()
      return s[0][:160] if s else ""

  if rc == 124:
      probs.append("timed out (hang)")
  elif rc >= 128:
      probs.append(f"crashed (exit {rc}, signal {rc - 128}) stderr: {first_line(stderr)}")
  for text, where in ((stdout, "stdout"), (stderr, "stderr")):
      if re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text):
          probs.append(f"a private key appears on {where}")

  report = None
  text_mode = any(argv[i] in ("-o", "--output") and i + 1 < len(argv) and argv[i + 1] == "text"
                  for i in range(len(argv)))
  if rc in (0, 1) and not text_mode:
      try:
          report = json.loads(stdout)
          if not isinstance(report, dict):
              raise ValueError("not an object")
      except ValueError as e:
          probs.append(f"exit {rc} but stdout is not one JSON object ({e}): {first_line(stdout)!r}")
          report = None
  findings = []
  if report is not None:
      findings = report.get("findings")
      if not isinstance(findings, list):
          probs.append("report has no findings list")
          findings = []
      for f in findings:
          miss = [k for k in ("id", "name", "severity", "subject", "message", "fix") if k not in f]
          if miss:
              probs.append(f"finding {f.get('id')} lacks {','.join(miss)}")
          if f.get("severity") not in LEVELS:
              probs.append(f"finding {f.get('id')} has severity {f.get('severity')!r}")
      for k in ("kubevet", "command", "evaluated_at", "summary"):
          if k not in report:
              probs.append(f"report lacks '{k}'")
      fail_on = "warning"
      if "--fail-on" in argv and argv.index("--fail-on") + 1 < len(argv):
          fail_on = argv[argv.index("--fail-on") + 1]
      if fail_on in LEVELS:
          hit = any(LEVELS.get(f.get("severity"), -1) >= LEVELS[fail_on] for f in findings)
          if hit != (rc == 1):
              probs.append(f"exit {rc} disagrees with --fail-on {fail_on} and findings "
                           f"{sorted(set((f.get('id'), f.get('severity')) for f in findings))}")
      elif fail_on == "never" and rc != 0:
          probs.append("exit 1 with --fail-on never")
  if rc == 3 and not stderr.strip():
      probs.append("exit 3 without a message on stderr")

  ids = [f.get("id") for f in findings]
  seen = " ".join(f"{f.get('id')}({f.get('severity')}):{f.get('subject')}" for f in findings) or "no findings"
  def norm(x):
      return str(x).lower().replace(":", "")
  for k, v in spec:
      if k == "exit":
          if str(rc) not in v.replace("|", " ").split():
              probs.append(f"exit {rc}, want {v} (stderr: {first_line(stderr)})")
      elif k == "expect":
          for i in v.split():
              if i not in ids:
                  probs.append(f"{i} missing")
      elif k == "absent":
          for i in v.split():
              if i in ids:
                  subs = [f.get("subject") for f in findings if f.get("id") == i]
                  probs.append(f"{i} unexpected on {subs}")
      elif k == "subject":
          i, _, pats = v.partition(" ")
          subs = [f.get("subject") for f in findings if f.get("id") == i]
          if not any(fnmatch.fnmatchcase(str(s), p.strip()) for s in subs for p in pats.split("|")):
              probs.append(f"{i} subject {subs}, want {pats}")
      elif k == "severity":
          i, _, lvl = v.partition(" ")
          sevs = [f.get("severity") for f in findings if f.get("id") == i]
          if not sevs or any(s != lvl.strip() for s in sevs):
              probs.append(f"{i} severity {sevs}, want {lvl.strip()}")
      elif k == "no-severity":
          bad = [f.get("id") for f in findings if f.get("severity") == v]
          if bad:
              probs.append(f"{v} findings present: {bad}")
      elif k == "count":
          certs = (report or {}).get("certificates")
          if not isinstance(certs, list):
              probs.append("no certificates list in the report")
          elif len(certs) != int(v):
              probs.append(f"{len(certs)} certificates, want {v}: "
                           f"{[c.get('subject') for c in certs]}")
      elif k == "cert":
          field, _, want = v.partition(" ")
          certs = (report or {}).get("certificates") or []
          got = [c.get(field) for c in certs]
          if not any(norm(g) == norm(want.strip()) for g in got):
              probs.append(f"no certificate with {field} = {want.strip()} (got {got})")
      elif k == "stderr":
          if not any(t.strip() and t.strip() in stderr for t in v.split("|")):
              probs.append(f"stderr does not name {v}: {first_line(stderr)!r}")
      elif k == "stderr-lines":
          if len(stderr.splitlines()) != int(v):
              probs.append(f"stderr has {len(stderr.splitlines())} lines, want {v}: {stderr[:300]!r}")
      elif k == "first":
          if not ids or ids[0] != v:
              probs.append(f"first finding is {ids[0] if ids else None}, want {v}")
      elif k == "before":
          a, _, b = v.partition(" ")
          b = b.strip()
          ia = [i for i, x in enumerate(ids) if x == a]
          ib = [i for i, x in enumerate(ids) if x == b]
          if not ia or not ib or ia[0] > ib[0]:
              probs.append(f"{a} not listed before {b}: {ids}")
      elif k == "cause":
          i, pat, want = (v.split(" ", 2) + ["", ""])[:3]
          hit = [f for f in findings if f.get("id") == i and fnmatch.fnmatchcase(str(f.get("subject")), pat)]
          bad = [(f.get("subject"), f.get("cause")) for f in hit
                 if not fnmatch.fnmatchcase(str(f.get("cause")), want)]
          if not hit or bad:
              probs.append(f"{i} {pat}: cause {bad or 'no such finding'}, want {want}")
      elif k == "number":
          i, _, n = v.partition(" ")
          if ids.count(i) != int(n):
              probs.append(f"{ids.count(i)} {i} findings, want {n}")
      elif k == "field":
          i, key, want = (v.split(" ", 2) + ["", ""])[:3]
          got = [f.get(key) for f in findings if f.get("id") == i]
          if not any(str(g).lower() == want.lower() or json.dumps(g) == want for g in got):
              probs.append(f"{i} {key} = {got}, want {want}")
      elif k in ("message", "fix", "no-message"):
          i, _, t = v.partition(" ")
          key = "fix" if k == "fix" else "message"
          got = [str(f.get(key)) for f in findings if f.get("id") == i]
          has = any(t in g for g in got)
          if has == (k == "no-message"):
              probs.append(f"{i} {key} {'has' if has else 'lacks'} {t!r}: {[g[:200] for g in got]}")
      elif k == "no-fix":
          bad = [f.get("id") for f in findings if v in str(f.get("fix"))]
          if bad:
              probs.append(f"fix of {bad} contains {v!r}")
      elif k == "stdout":
          if v not in stdout:
              probs.append(f"stdout lacks {v!r}")
      elif k == "no-control":
          bad = sorted(set(hex(ord(c)) for c in stdout if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127))
          if bad:
              probs.append(f"stdout holds control characters {bad}")
  if probs:
      return "; ".join(probs) + f" [seen: {seen}]"
  return None

passed = failed = skipped = 0
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    name, status, msg = f[0], f[1], f[2]
    if status == "skip":
        print(f"skip {name}: {msg}"); skipped += 1; continue
    if status == "fail":
        print(f"FAIL {name}: {msg}"); failed += 1; continue
    argv = f[7].split("\x1f") if len(f) > 7 and f[7] else []
    try:
        why = judge(f[3], f[4], f[5], int(f[6]), argv)
    except Exception as e:  # a broken case file must not hide the other results
        why = f"assertion error: {e!r}"
    if why is None:
        print(f"ok {name}"); passed += 1
    else:
        print(f"FAIL {name}: {why.replace(sys.argv[2], '$W')}"); failed += 1
        if sys.argv[3] == "1":
            print("  $ kubevet " + " ".join(argv))
            for l in open(f[4], errors="replace").read().splitlines()[:40]: print("  | " + l)
            for l in open(f[5], errors="replace").read().splitlines()[:10]: print("  ! " + l)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
# 77: everything selected was skipped (ctest SKIP_RETURN_CODE)
sys.exit(1 if failed else 0 if passed else 77 if skipped else 1)
PYEOF
)

# ---- run -------------------------------------------------------------------------------
: >"$W/manifest"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "${3//$'\t'/ }" >>"$W/manifest"; }
run_case() {
    local file=$1 name build="" muts="" run="" as_user="" k v line d root fix
    name=$(basename "$(dirname "$file")")/$(basename "$file" .case)
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in '#'* | '') continue ;; esac
        k=${line%%:*}
        v=${line#*:}
        v=${v#"${v%%[![:space:]]*}"}
        case $k in
        build) build=$v ;;
        mutate) muts+="$v"$'\n' ;;
        run) run=$v ;;
        as-user) as_user=$v ;;
        esac
    done <"$file"
    if [ -z "$build" ] || [ -z "$run" ]; then
        record "$name" fail "case needs build: and run:"; return
    fi
    d=$(fixture "$build" "$muts")
    if [ $? != 0 ]; then
        record "$name" fail "fixture build failed (not a kubevet problem): $(tail -n 3 "$d/log" 2>/dev/null | tr '\n\t' '  ')"
        return
    fi
    fix=$d/o/p
    root=$fix/root
    if [ -f "$fix/SKIP" ]; then
        record "$name" skip "$(cat "$fix/SKIP")"; return
    fi
    local args
    read -ra args <<<"$(subst "$run" "$root" "$fix")"
    local has_root=0 has_o=0 a
    for a in "${args[@]}"; do
        case $a in --root | --root=*) has_root=1 ;; -o | --output | --output=* | -ojson) has_o=1 ;; esac
    done
    [ $has_root = 1 ] || args+=(--root "$root")
    [ $has_o = 1 ] || args+=(-o json)
    local o=$W/out/${name//\//_} pre=()
    if [ -n "$as_user" ]; then
        # Another user must reach the fixture (not its files: mknode's modes decide those).
        if [ "$(id -u)" != 0 ]; then
            record "$name" skip "as-user needs root to switch users (running as uid $(id -u))"; return
        elif command -v setpriv >/dev/null; then
            pre=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        elif command -v runuser >/dev/null; then
            pre=(runuser -u nobody --)
        else
            record "$name" skip "as-user needs setpriv or runuser"; return
        fi
        local up=$fix
        while [ "$up" != / ] && [ -n "$up" ]; do chmod o+x "$up" 2>/dev/null; up=$(dirname "$up"); done
        if ! "${pre[@]}" test -x "$KUBEVET"; then
            record "$name" skip "$KUBEVET is not executable by uid 65534"; return
        fi
    fi
    timeout 60 ${pre[@]+"${pre[@]}"} "$KUBEVET" "${args[@]}" >"$o.out" 2>"$o.err" </dev/null
    local rc=$? IFS=$'\x1f'
    printf '%s\trun\t\t%s\t%s\t%s\t%s\t%s\n' "$name" "$file" "$o.out" "$o.err" "$rc" "${args[*]}" >>"$W/manifest"
}

for f in "$KV_SRC"/tests/scenarios/node/*.case "$KV_SRC"/tests/scenarios/bad/*.case \
    "$KV_SRC"/tests/scenarios/peers/*.case; do
    [ -f "$f" ] || continue
    if [ $# -gt 0 ]; then
        sel=0
        for p in "$@"; do case $f in *"$p"*) sel=1 ;; esac; done
        [ $sel = 1 ] || continue
    fi
    if [ -n "${KV_EXCLUDE:-}" ]; then
        case $f in *"$KV_EXCLUDE"*) continue ;; esac
    fi
    # the peers' fixtures live beside the repository (../shared): a fresh clone has none
    if [ ! -d "$PEERS" ] && grep -q '{PEERS}' "$f"; then
        record "$(basename "$(dirname "$f")")/$(basename "$f" .case)" skip \
            "$PEERS absent (a clone without ../shared)"
        continue
    fi
    run_case "$f"
done
"$PY" -c "$ASSERT_PY" "$W/manifest" "$W" "${KV_VERBOSE:-0}"
