#!/bin/bash
# The AppStream metainfo file: valid for appstreamcli (offline, so no URL checks), and its newest
# release is the project's version, so a version bump cannot forget it.
# Usage: test-metainfo.sh METAINFO VERSION
set -uo pipefail
FILE=$1 VERSION=$2
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

if ! command -v appstreamcli >/dev/null; then
    n=$((n + 1))
    echo "ok $n # SKIP appstreamcli is not installed (Debian: appstream)"
elif out=$(appstreamcli validate --no-net "$FILE" 2>&1); then
    ok "appstreamcli validate --no-net accepts $(basename "$FILE")"
    printf '%s\n' "$out" | grep -E '^[EWI]:' | sed 's/^/# /'
else
    not_ok "appstreamcli validate --no-net accepts $(basename "$FILE")"
    printf '%s\n' "$out" | sed 's/^/# /'
fi

newest=$(grep -o '<release [^>]*version="[^"]*"' "$FILE" | head -n 1 | sed 's/.*version="\([^"]*\)"/\1/')
if [ "$newest" = "$VERSION" ]; then
    ok "the newest <release> is the project version, $VERSION"
else
    not_ok "the newest <release> ($newest) is the project version ($VERSION)"
fi

echo "1..$n"
[ "$failed" = 0 ]
