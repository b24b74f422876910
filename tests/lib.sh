# lib.sh: what the shell tests share. Source it after "set -u":
#   odc_test_setup TAG    $tmp, a fresh folder (kept with ODC_KEEP=1); $pids,
#                         processes killed at exit; counters for check
#   check WHAT CMD...     runs CMD; counts it passed, or prints "FAIL: WHAT"
#   odc_test_end          prints "N passed, N failed"; the status to exit with
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
