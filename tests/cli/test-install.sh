#!/bin/bash
# The install layout: `meson install --destdir` into a temporary directory, then the sorted list
# of installed files (mode and path) against tests/data/install-files.txt, so that a change to
# the layout is a deliberate change to that list.
#
# Usage: test-install.sh BUILDDIR EXPECTED FEATURES NAME=DIR...
#   FEATURES  comma-separated parts this build has (nm, gtk3, gtk4, auth-dialog, ...)
#   NAME=DIR  an install directory as meson resolved it; in the installed paths the longest DIR
#             that starts a path is replaced by @NAME@, so the list does not depend on the prefix
#             or on the distribution's libdir.
#
# A line of EXPECTED is "MODE PATH", or "[FEATURE] MODE PATH" for a file that is installed only
# when FEATURE is built; "#" starts a comment.
set -uo pipefail
BUILDDIR=$1 EXPECTED=$2 FEATURES=$3
shift 3
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

# The directory names, longest first: /usr/local/share/man before /usr/local/share.
mapfile -t dirs < <(for a in "$@"; do
    name=${a%%=*} dir=${a#*=}
    dir=/${dir#/}
    dir=${dir%/}
    printf '%d\t%s\t%s\n' "${#dir}" "$name" "$dir"
done | sort -t$'\t' -k1,1nr -s)

normalise() {
    local mode path entry name dir
    while read -r mode path; do
        for entry in "${dirs[@]}"; do
            IFS=$'\t' read -r _ name dir <<<"$entry"
            if [ "${path#"$dir"/}" != "$path" ]; then
                path="@$name@/${path#"$dir"/}"
                break
            fi
        done
        printf '%s %s\n' "$mode" "$path"
    done
}

if out=$(meson install -C "$BUILDDIR" --no-rebuild --quiet --destdir "$dest" 2>&1); then
    ok "meson install --destdir succeeds"
else
    not_ok "meson install --destdir succeeds"
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "1..$n"
    exit 1
fi

actual=$(cd "$dest" && find . \( -type f -o -type l \) -printf '%m /%P\n' | normalise | LC_ALL=C sort -k2)

# The expectation for this build: unconditional lines, and the lines of the features it has.
expected=$(awk -v features=",$FEATURES," '
    /^[[:space:]]*(#|$)/ { next }
    /^\[/ {
        f = substr($1, 2, length($1) - 2)
        if (index(features, "," f ",") == 0) next
        $1 = ""
        sub(/^ /, "")
    }
    { print }' "$EXPECTED" | LC_ALL=C sort -k2)

count=$(printf '%s\n' "$actual" | grep -c .)
if [ "$actual" = "$expected" ]; then
    ok "the $count installed files are the ones $(basename "$EXPECTED") lists for: $FEATURES"
else
    not_ok "the installed files are the ones $(basename "$EXPECTED") lists for: $FEATURES"
    echo "# --- expected, +++ installed:"
    diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | tail -n +3 | sed 's/^/# /'
fi

# Nothing lands in a directory no option or pkg-config variable names: such a path would be
# hard-coded somewhere in the build files.
stray=$(printf '%s\n' "$actual" | awk '$2 !~ /^@[A-Z_]+@\// { print $2 }')
if [ -z "$stray" ]; then
    ok "every installed file is below a directory named by a meson option or pkg-config"
else
    not_ok "every installed file is below a directory named by a meson option or pkg-config"
    printf '%s\n' "$stray" | sed 's/^/# outside every named directory: /'
fi

# run-parts ignores hooks that are not executable, and names with dots.
hooks=$(printf '%s\n' "$actual" | awk '$2 ~ /^@IFUPDOWN_DIR@\// { print }')
bad_hooks=$(printf '%s\n' "$hooks" | awk 'NF && ($1 != "755" || $2 ~ /\/[^\/]*\.[^\/]*$/)')
if [ -z "$bad_hooks" ]; then
    ok "ifupdown hooks are mode 755 and have names run-parts accepts ($(printf '%s\n' "$hooks" | grep -c .) installed)"
else
    not_ok "ifupdown hooks are mode 755 and have names run-parts accepts"
    printf '%s\n' "$bad_hooks" | sed 's/^/# /'
fi

echo "1..$n"
[ "$failed" = 0 ]
