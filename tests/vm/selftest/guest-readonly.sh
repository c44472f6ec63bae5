#!/bin/bash
# Runs in the VM (tests/vm/selftest/run-all): writes files named $1 into
# host directories; the host checks afterwards that none of them arrived.
set -euo pipefail
name=${1:?marker name}
checkout=${2:?checkout directory}
for d in /etc /usr /usr/lib "$checkout" /var/tmp /root; do
	echo "written in the VM" > "$d/$name"
	test -s "$d/$name"
done
cp /bin/true "/usr/bin/$name"
rm /etc/hostname
echo "wrote $name in /etc /usr /usr/lib /usr/bin $checkout /var/tmp /root; removed /etc/hostname"
