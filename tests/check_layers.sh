#!/bin/sh
# Folders are layers (README.md, "Layers"): a file includes only headers of
# its own layer and of the layers below it. Lowest first:
#
#   base < proto < broker < store < snmp < actors < bridge < cli | portal
#
# cli/ and portal/ are both on top and include neither of each other.
# proto/'s header is generated (opendca.pb-c.h, in the build tree).
# tests/ and bench/ may include anything.
#
#   tests/check_layers.sh ROOT              check the tree at ROOT
#   tests/check_layers.sh --self-test ROOT  copy ROOT, break each rule once,
#                                           and expect the check to fail
#
# A violation is named as FILE:LINE: LAYER includes HEADER of LAYER (above).
# A quoted include that names no header of ours is an error too, so a new
# folder or a misspelt header cannot slip past the check.

set -u

LAYERS="base proto broker store snmp actors bridge cli portal"

rank () {
    case $1 in
    base) echo 0 ;;
    proto) echo 1 ;;
    broker) echo 2 ;;
    store) echo 3 ;;
    snmp) echo 4 ;;
    actors) echo 5 ;;
    bridge) echo 6 ;;
    cli | portal) echo 7 ;;
    *) echo 99 ;;
    esac
}

check () {
    local root map dups bad files layer mine f h line header base theirs where
    root=$1
    map=$(mktemp)
    # header -> layer
    for layer in $LAYERS; do
        [ -d "$root/$layer" ] || continue
        for h in "$root/$layer"/*.h; do
            [ -e "$h" ] || continue
            echo "$(basename "$h") $layer" >>"$map"
        done
    done
    echo "opendca.pb-c.h proto" >>"$map"
    dups=$(cut -d' ' -f1 "$map" | sort | uniq -d)
    bad=0
    if [ -n "$dups" ]; then
        echo "check_layers: a header name in two layers: $dups" >&2
        bad=1
    fi
    files=0
    for layer in $LAYERS; do
        [ -d "$root/$layer" ] || continue
        mine=$(rank "$layer")
        for f in "$root/$layer"/*.[ch]; do
            [ -e "$f" ] || continue
            files=$((files + 1))
            # line number and header of every quoted include
            grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
                sed 's/^\([0-9]*\):.*"\([^"]*\)".*/\1 \2/' >"$map.inc"
            while read -r line header; do
                base=$(basename "$header")
                theirs=$(awk -v h="$base" '$1 == h { print $2; exit }' "$map")
                where="${f#"$root"/}:$line"
                if [ -z "$theirs" ]; then
                    echo "$where: $layer includes \"$header\", which is no header of ours" >&2
                    bad=1
                elif [ "$theirs" != "$layer" ] && [ "$(rank "$theirs")" -ge "$mine" ]; then
                    echo "$where: $layer includes \"$header\" of $theirs, which is not below $layer" >&2
                    bad=1
                fi
            done <"$map.inc"
        done
    done
    rm -f "$map" "$map.inc"
    if [ "$files" -eq 0 ]; then
        echo "check_layers: no sources under $root" >&2
        return 2
    fi
    [ "$bad" -eq 0 ] && echo "check_layers: $files files, every include within its layer or below"
    return $bad
}

# Break the tree once per rule in a copy; the check must fail, naming the file.
self_test () {
    local root tmp fails name file inc expect out rc layer
    root=$1
    tmp=$(mktemp -d)
    fails=0
    # name file include-line expected-text
    while IFS='|' read -r name file inc expect; do
        rm -rf "$tmp/tree"
        mkdir -p "$tmp/tree"
        for layer in $LAYERS; do
            [ -d "$root/$layer" ] && cp -r "$root/$layer" "$tmp/tree/"
        done
        if ! check "$tmp/tree" >/dev/null 2>&1; then
            echo "self-test: the unbroken copy fails already" >&2
            rm -rf "$tmp"
            return 1
        fi
        printf '%s\n' "$inc" >>"$tmp/tree/$file"
        out=$(check "$tmp/tree" 2>&1)
        rc=$?
        if [ $rc -ne 1 ] || ! printf '%s' "$out" | grep -q "$expect"; then
            echo "self-test $name: not caught (rc $rc): $out" >&2
            fails=$((fails + 1))
        else
            echo "self-test $name: caught: $(printf '%s' "$out" | head -1)"
        fi
    done <<'EOF'
base includes the bus|base/odc_log.c|#include "odc_bus.h"|base/odc_log.c:[0-9]*: base includes "odc_bus.h" of broker
base includes the messages|base/odc_text.h|#include "opendca.pb-c.h"|base/odc_text.h:[0-9]*: base includes "opendca.pb-c.h" of proto
store includes snmp|store/odc_devices.c|#include "odc_read.h"|store includes "odc_read.h" of snmp
snmp includes an actor|snmp/odc_read.c|#include "odc_loop_actor.h"|snmp includes "odc_loop_actor.h" of actors
actors include the bridge|actors/odc_imil.c|#include "odc_xml.h"|actors includes "odc_xml.h" of bridge
the portal includes the CLI|portal/opendca_portal.c|#include "odc_cli.h"|portal includes "odc_cli.h" of cli
the CLI includes nothing unknown|cli/odc_poll.c|#include "odc_nowhere.h"|no header of ours
EOF
    rm -rf "$tmp"
    [ $fails -eq 0 ] && echo "self-test: every broken rule caught"
    return $fails
}

case ${1:-} in
--self-test)
    [ $# -eq 2 ] || { echo "usage: $0 --self-test ROOT" >&2; exit 2; }
    self_test "$2"
    ;;
-h | --help)
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    ;;
*)
    [ $# -eq 1 ] || { echo "usage: $0 ROOT | --self-test ROOT" >&2; exit 2; }
    check "$1"
    ;;
esac
