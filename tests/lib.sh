# lib.sh: what the shell tests share. Source it after "set -u":
#   odc_test_setup TAG    $tmp, a fresh folder (kept with ODC_KEEP=1); $pids,
#                         processes killed at exit; counters for check
#   check WHAT CMD...     runs CMD; counts it passed, or prints "FAIL: WHAT"
#   odc_test_end          prints "N passed, N failed"; the status to exit with
#   odc_test_xmpp PORT ACCOUNT:PW...
#                         a private Prosody in $tmp/xmpp on PORT with those
#                         accounts, stopped at exit (stop_xmpp stops it
#                         earlier); sets $xmpp, $ca and $xopts (the client
#                         options of the portal's commands, without the
#                         password). Needs $src, the source tree.
odc_test_setup() {
    tmp=$(mktemp -d "/tmp/odc-$1-XXXXXX")
    chmod 755 "$tmp"
    pids=()
    passed=0
    failed=0
    trap odc_test_cleanup EXIT
}

odc_test_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${ODC_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

check() {
    local what=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

odc_test_end() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

odc_test_xmpp() {
    local port=$1
    shift
    xmpp=$tmp/xmpp
    stop_xmpp() { "$src/scripts/prosody" stop "$xmpp"; }
    trap 'stop_xmpp; odc_test_cleanup' EXIT
    "$src/scripts/prosody" start "$xmpp" "$port" "$@" || exit 1
    ca=$xmpp/localhost.crt
    xopts=(--host 127.0.0.1 --port "$port" --ca-file "$ca")
}
