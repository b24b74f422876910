#!/usr/bin/env bash
# test_xml_schema.sh TEST_XML: the batches the collector sends (one of each
# reading kind, plain and deflated, with hostile text from devices, and an
# event of every type as the uploader passes the registry's events on) are
# valid against bridge/opendca-portal.rng (xmllint, libxml2's RELAX NG).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
odc_test_setup xml-schema
command -v xmllint >/dev/null || { echo "SKIP: xmllint (libxml2-utils) is not installed"; exit 0; }
check "the examples are written" "$1" --examples "$tmp"
for f in "$tmp"/*.xml; do
    check "$(basename "$f") is valid against the schema" \
        xmllint --noout --relaxng "$src/bridge/opendca-portal.rng" "$f"
done
# And the schema can fail: a batch with a record it does not know.
printf '<batch xmlns="urn:opendca:portal:1" kind="meters" seq="1" count="1" created="1"><virus/></batch>\n' >"$tmp/bad.xml"
check "a batch with an unknown record is not valid" \
    bash -c "! xmllint --noout --relaxng '$src/bridge/opendca-portal.rng' '$tmp/bad.xml' 2>/dev/null"
odc_test_end
