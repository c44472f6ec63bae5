#!/bin/bash
# The Debian packages, end to end: the committed tree (HEAD) exported to a temporary directory,
# packaging/debian copied in as debian/, `dpkg-buildpackage -b -us -uc` (which builds and runs
# the unit suite), then lintian on the .changes. The .debs are copied to OUTDIR.
#
# Usage: packaging/build-deb.sh [OUTDIR]   (default: ./deb-out; GRE_JOBS sets the parallelism, 2)
# Needs dpkg-dev, debhelper, lintian and the Build-Depends of packaging/debian/control.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-deb-out}")
jobs=${GRE_JOBS:-2}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
step() { echo "build-deb: [$(($(date +%s) - start))s] $*"; }

if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    echo "build-deb: note: uncommitted changes are not built (the package is made from HEAD)" >&2
fi
version=$(sed -n "s/^[[:space:]]*version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
deb_version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
if [ "${deb_version%-*}" != "$version" ]; then
    echo "build-deb: packaging/debian/changelog is at $deb_version, meson.build at $version" >&2
    exit 1
fi

tree=$work/network-manager-gre-$version
mkdir -p "$tree"
git -C "$src" archive HEAD | tar -x -C "$tree"
[ -d "$tree/debian" ] && { echo "build-deb: the tree already has a debian/ directory" >&2; exit 1; }
cp -a "$tree/packaging/debian" "$tree/debian"

step "dpkg-buildpackage -b -us -uc"
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    exit 1
fi
grep -E '^(Ok|Fail|Skipped|Timeout):' "$work/build.log" | sed 's/^/build-deb: unit suite: /' || true

changes=$(ls "$work"/*.changes)
mkdir -p "$out"
for deb in "$work"/*.deb; do
    cp "$deb" "$out/"
    echo "== $(basename "$deb"): $(dpkg-deb -c "$deb" | grep -vc '/$') files"
    dpkg-deb -c "$deb" | awk '$6 !~ /\/$/ { $2 = $3 = $4 = $5 = ""; gsub(/ +/, " "); print "   " $0 }'
done

step "lintian"
lintian_rc=0
lintian --info --display-info "$changes" >"$work/lintian.log" 2>&1 || lintian_rc=$?
cat "$work/lintian.log"
errors=$(grep -c '^E:' "$work/lintian.log" || true)
warnings=$(grep -c '^W:' "$work/lintian.log" || true)
step "lintian: $errors errors, $warnings warnings (exit $lintian_rc); packages in $out"
[ "$errors" = 0 ]
