#!/bin/bash
# The Fedora package, end to end: the tarball `meson dist` makes from the committed tree (HEAD),
# then `rpmbuild -bs` (the source package) and `rpmbuild -bb --nodeps` (the binary packages,
# building and running the unit suite in %check) in a temporary %_topdir. Prints the packages
# and their files. Slow (a full build), so not part of `meson test`.
#
# Usage: packaging/check-rpm.sh [--keep]   (--keep leaves the temporary directory)
# Needs rpm (rpmbuild), meson, git, and the build dependencies; --nodeps because the host's
# packages are not rpm packages. Where rpm lacks the Fedora macros (Debian), the stand-ins in
# packaging/fedora/debian-host.macros are used.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
keep=no
[ "${1:-}" = --keep ] && keep=yes
jobs=${GRE_JOBS:-2}

work=$(mktemp -d)
[ "$keep" = yes ] && echo "check-rpm: working in $work" || trap 'rm -rf "$work"' EXIT
start=$(date +%s)
step() { echo "check-rpm: [$(($(date +%s) - start))s] $*"; }

if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    echo "check-rpm: note: uncommitted changes are not in the tarball (meson dist packs HEAD)" >&2
fi

step "meson dist --no-tests"
meson setup "$work/dist-build" "$src" >"$work/dist-setup.log" 2>&1 ||
    { cat "$work/dist-setup.log"; exit 1; }
meson dist -C "$work/dist-build" --no-tests --formats xztar --allow-dirty >"$work/dist.log" 2>&1 ||
    { cat "$work/dist.log"; exit 1; }
version=$(meson introspect --projectinfo "$work/dist-build" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
tarball=$work/dist-build/meson-dist/NetworkManager-gre-$version.tar.xz
[ -f "$tarball" ] || { echo "check-rpm: no $tarball" >&2; exit 1; }

spec=$src/packaging/fedora/NetworkManager-gre.spec
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
if [ "$spec_version" != "$version" ]; then
    echo "check-rpm: the spec says Version $spec_version, meson.build $version" >&2
    exit 1
fi

top=$work/rpmbuild
mkdir -p "$top"/{SOURCES,SPECS,SRPMS,RPMS,BUILD,BUILDROOT}
cp "$tarball" "$top/SOURCES/"
cp "$spec" "$top/SPECS/"
rpmargs=(--define "_topdir $top" --define "_smp_build_ncpus $jobs")
if [ -z "$(rpm --eval '%{?meson}')" ]; then
    rpmargs+=(--load "$src/packaging/fedora/debian-host.macros")
fi
# The plugin's subpackages need nm-plugin/ in the tree.
# (The listing is read whole: grep -q would stop early, and pipefail would count tar's SIGPIPE.)
if ! tar -tJf "$tarball" | grep '^NetworkManager-gre-[^/]*/nm-plugin/meson.build$' >/dev/null; then
    echo "check-rpm: no nm-plugin/ in the tarball: building --without nm_plugin"
    rpmargs+=(--without nm_plugin)
fi

step "rpmbuild -bs"
rpmbuild "${rpmargs[@]}" -bs "$top/SPECS/NetworkManager-gre.spec" >"$work/bs.log" 2>&1 ||
    { cat "$work/bs.log"; exit 1; }
grep '^Wrote:' "$work/bs.log"

step "rpmbuild -bb --nodeps (build, install, %check)"
rpmbuild "${rpmargs[@]}" -bb --nodeps "$top/SPECS/NetworkManager-gre.spec" >"$work/bb.log" 2>&1 ||
    { tail -n 60 "$work/bb.log"; exit 1; }
grep -E '^(Ok|Fail|Skipped|Timeout):' "$work/bb.log" | sed 's/^/check-rpm: %check, unit suite: /' || true

for rpm in "$top"/SRPMS/*.rpm "$top"/RPMS/*/*.rpm; do
    files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null | grep -v '^d' | grep -v ' /usr/lib/\.build-id/')
    echo "== $(basename "$rpm"): $(printf '%s\n' "$files" | grep -c .) files"
    printf '%s\n' "$files" | sed 's/^/   /'
done
step "done"
