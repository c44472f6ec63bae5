#!/bin/bash
# The main job: a symmetric GRE tunnel pair with GRE-only IPsec, between two network namespaces,
# keyed by hand and then by IKEv2 (--manual-only: the first part only).
# From a clean clone on Debian 12, as root: installs what it needs, builds, and runs
# tests/kernel/demo-pair.sh directly when this kernel has GRE and ESP, else inside a VM that
# boots Debian's kernel (tests/vm/run).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash tests/deps.sh
[ -f _build/build.ninja ] || meson setup _build >/dev/null
meson compile -C _build >/dev/null

if bash tests/vm/kernel-has-gre 2>/dev/null; then
    echo "demo: this kernel has GRE and ESP; running in network namespaces here"
    GRE_BUILDDIR=$top/_build exec bash tests/kernel/demo-pair.sh "$@"
fi
echo "demo: this kernel lacks GRE or ESP; running in a VM with Debian's kernel (first run prepares it)"
exec tests/vm/run -e GRE_BUILDDIR="$top/_build" tests/kernel/demo-pair.sh "$@"
