#!/usr/bin/env bash
# Packaging: kubevet(1) made at build time renders with man (or groff) and lists every command and
# every check ID of the binary's tables; the bash completion loads and completes commands,
# subcommands and options; `make deb-package` (make deb without the rebuild) builds a package whose contents dpkg-deb lists (binary,
# kubectl-vet link, man page, completions); the krew manifest template parses.
set -uo pipefail

KUBEVET=${KUBEVET:-build/kubevet}
KV_SRC=${KV_SRC:-.}
KV_BUILD=${KV_BUILD:-$(dirname "$KUBEVET")}
cd "$KV_SRC" || exit 1
fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
work=$(mktemp -d /tmp/kv-t-packaging.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- man page ---
page=$KV_BUILD/kubevet.1
[ -s "$page" ] && pass "build made $page" || fail "no $page after the build"
if command -v man >/dev/null; then
    MANWIDTH=100 man -l "$page" >"$work/man.txt" 2>"$work/man.err" </dev/null
else
    groff -man -Tutf8 "$page" >"$work/man.txt" 2>"$work/man.err"
fi
[ -s "$work/man.txt" ] && ! grep -q 'warning' "$work/man.err" && pass "man page renders" ||
    fail "man page: $(head -3 "$work/man.err")"
# groff's warnings for bad requests and escapes
groff -man -Tutf8 -ww -z "$page" 2>"$work/groff.err"
[ ! -s "$work/groff.err" ] && pass "groff -ww: no warnings" || fail "groff: $(head -3 "$work/groff.err")"
plain=$(sed 's/.\x08//g' "$work/man.txt")
missing=
for c in $("$KUBEVET" help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} /^$/ && on {on=0}'); do
    grep -q "kubevet $c" <<<"$plain" || missing="$missing $c"
done
for id in $("$KUBEVET" help checks | awk 'NR > 1 {print $1}'); do
    grep -q "^ *$id " <<<"$plain" || missing="$missing $id"
done
[ -z "$missing" ] && pass "man page lists every command and check ID" || fail "man page lacks:$missing"
grep -q 'kubevet etcd snapshot save' <<<"$plain" && grep -q -- '--snapshot-dir' <<<"$plain" &&
    pass "man page has subcommands and their options" || fail "man page lacks subcommands/options"

# --- completions ---
out=$(bash -c "source <('$KUBEVET' completion bash) && complete -p kubevet" 2>&1)
[[ $out == *"-F _kubevet"*kubevet* ]] && pass "bash completion loads: $out" || fail "bash completion: $out"
comp() { # comp WORD... -> completions of the last word
    bash -c 'source <("$0" completion bash); COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kubevet; echo "${COMPREPLY[*]}"' "$KUBEVET" "$@"
}
[ "$(comp kubevet ser)" = serve ] && pass "kubevet ser<TAB> -> serve" || fail "ser -> '$(comp kubevet ser)'"
[ "$(comp kubevet etcd snapshot s)" = "save status" ] && pass "etcd snapshot s<TAB> -> save status" ||
    fail "etcd snapshot s -> '$(comp kubevet etcd snapshot s)'"
[ "$(comp kubevet serve --li)" = "--listen" ] && pass "serve --li<TAB> -> --listen" || fail "serve --li -> '$(comp kubevet serve --li)'"
[[ " $(comp kubevet check --) " == *" --warn-within "*" --kubeconfig "* ]] && pass "check --<TAB> has own and global options" ||
    fail "check -- -> '$(comp kubevet check --)'"
"$KUBEVET" completion fish >"$work/kv.fish" && grep -q "complete -c kubevet -n '__fish_use_subcommand' -a serve" "$work/kv.fish" &&
    pass "fish completion generated" || fail "fish completion"
if command -v fish >/dev/null; then
    fish -n "$work/kv.fish" && pass "fish -n accepts it" || fail "fish -n"
    # fish's own completion engine over the loaded script (first column: the candidate)
    fcomp() { fish -c "source $work/kv.fish; complete -C'$1'" | cut -f1 | tr '\n' ' ' | sed 's/ $//'; }
    [ "$(fcomp 'kubevet ce')" = certs ] && pass "fish: kubevet ce<TAB> -> certs" ||
        fail "fish: kubevet ce -> '$(fcomp 'kubevet ce')'"
    [ "$(fcomp 'kubevet certs ')" = "check list renew" ] && pass "fish: certs <TAB> -> check list renew" ||
        fail "fish: certs -> '$(fcomp 'kubevet certs ')'"
else
    echo "skip fish: not installed (scripts/deps)"
fi
"$KUBEVET" completion zsh >"$work/kv.zsh" && grep -q bashcompinit "$work/kv.zsh" && pass "zsh completion generated" || fail "zsh completion"
if command -v zsh >/dev/null; then
    zsh -c "autoload -U compinit && compinit -u; source $work/kv.zsh" && pass "zsh loads it" || fail "zsh load"
    # compinit registers it; _bash_complete runs it in sh emulation and hands COMPREPLY to
    # compadd, which does the prefix matching: the candidates must be there
    zcomp() {
        zsh -fc 'autoload -U compinit && compinit -u; source "$0"
            print -r -- "$_comps[kubevet]"
            emulate -L sh; setopt kshglob noshglob braceexpand
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _kubevet; echo "${COMPREPLY[*]}"' "$work/kv.zsh" "$@"
    }
    out=$(zcomp kubevet ce)
    [[ $out == *"-F _kubevet"*$'\n'*" certs "* ]] && pass "zsh: registered, kubevet ce<TAB> offers certs" ||
        fail "zsh: kubevet ce -> '$out'"
    [ "$(zcomp kubevet certs '' | tail -1)" = "list check renew" ] && pass "zsh: certs <TAB> -> list check renew" ||
        fail "zsh: certs -> '$(zcomp kubevet certs '')'"
    [[ " $(zcomp kubevet serve --li | tail -1) " == *" --listen "* ]] && pass "zsh: serve --li<TAB> offers --listen" ||
        fail "zsh: serve --li"
else
    echo "skip zsh: not installed (scripts/deps)"
fi
"$KUBEVET" completion tcsh >/dev/null 2>&1
[ $? = 2 ] && pass "completion tcsh: exit 2" || fail "completion tcsh not exit 2"

# --- make deb ---
if command -v dpkg-deb >/dev/null; then
    if make deb-package BUILD="$KV_BUILD" >"$work/deb.log" 2>&1; then
        deb=$(ls "$KV_BUILD"/kubevet_*.deb | head -1)
        dpkg-deb -c "$deb" >"$work/deb.txt"
        ok=1
        for f in ./usr/bin/kubevet ./usr/bin/kubectl-vet ./usr/share/man/man1/kubevet.1.gz \
            ./usr/share/bash-completion/completions/kubevet ./usr/share/zsh/vendor-completions/_kubevet \
            ./usr/share/fish/vendor_completions.d/kubevet.fish; do
            grep -q " $f\( \|$\)" "$work/deb.txt" || { ok=0; fail "deb lacks $f"; }
        done
        [ $ok = 1 ] && pass "dpkg-deb -c lists binary, kubectl-vet, man page, completions"
        grep -q '^l.* ./usr/bin/kubectl-vet -> kubevet$' "$work/deb.txt" && pass "kubectl-vet is a link to kubevet" || fail "kubectl-vet link"
        # libcurl (etcd, the API) and libmicrohttpd (serve) are loaded when first used: recommended,
        # not required, so a node without them still runs every offline check.
        [ "$(dpkg-deb -f "$deb" Package)" = kubevet ] && dpkg-deb -f "$deb" Depends | grep -q libssl3 &&
            ! dpkg-deb -f "$deb" Depends | grep -q 'libmicrohttpd\|libcurl' &&
            dpkg-deb -f "$deb" Recommends | grep -q 'libcurl4.*libmicrohttpd12' &&
            pass "control: Package kubevet, Depends $(dpkg-deb -f "$deb" Depends), Recommends $(dpkg-deb -f "$deb" Recommends)" ||
            fail "deb control"
        mkdir -p "$work/x" && dpkg-deb -x "$deb" "$work/x" && "$work/x/usr/bin/kubectl-vet" version >/dev/null &&
            pass "the packaged kubectl-vet runs" || fail "packaged binary does not run"
    else
        fail "make deb-package: $(tail -5 "$work/deb.log")"
    fi
else
    echo "skip deb: dpkg-deb not installed"
fi

# --- krew manifest template ---
/usr/bin/python3 - <<'PY' && pass "krew manifest: Plugin vet, bin kubectl-vet per platform" || fail "krew manifest"
import yaml, sys
d = yaml.safe_load(open("deploy/krew/vet.yaml"))
ok = d["kind"] == "Plugin" and d["metadata"]["name"] == "vet"
ok &= all(p["bin"] == "kubectl-vet" and p["selector"]["matchLabels"]["os"] == "linux" for p in d["spec"]["platforms"])
sys.exit(0 if ok else 1)
PY

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
[ $fails = 0 ]
