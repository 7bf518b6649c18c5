# shellcheck shell=bash
# The counters of the shell tests that count their own passes: source it, then
#   ok NAME; bad NAME [WHY]; skip NAME WHY; check NAME COMMAND... (COMMAND's exit status decides,
#   its output is dropped). The test ends with its own summary of $pass, $fail and $skipped.
pass=0 fail=0 skipped=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skip() { echo "skip $1: $2"; skipped=$((skipped + 1)); }
check() { local n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n"; fi; }
