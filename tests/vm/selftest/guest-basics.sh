#!/bin/bash
# shellcheck disable=SC2016 # the sh -c snippets expand in the child
# Runs in the VM (tests/vm/selftest/run-all): checks the guest environment,
# prints a few lines and exits with the status given as $1.
set -uo pipefail

fails=0
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok: $what"
	else
		echo "FAILED: $what"
		fails=$((fails + 1))
	fi
}

status=${1:-0}
shift || true
echo "args: $#$(printf ' [%s]' "$@")"
echo "cwd: $PWD"
echo "kernel: $(uname -r)"
echo "GRE_IN_VM=${GRE_IN_VM:-} VM_JOB_DIR=${VM_JOB_DIR:-}"
echo "SELFTEST_VAR=${SELFTEST_VAR-unset} SELFTEST_HOSTVAR=${SELFTEST_HOSTVAR-unset}"
echo "to stderr" >&2

check "running as root" test "$(id -u)" = 0
check "GRE_IN_VM=1" test "${GRE_IN_VM:-}" = 1
check "job dir writable" sh -c 'echo artifact > "$VM_JOB_DIR/artifact.txt"'
check "process substitution (/dev/fd)" bash -c 'read -r x < <(echo yes); test "$x" = yes'
check "/dev/shm writable" sh -c 'echo x > /dev/shm/t && rm /dev/shm/t'
check "pty from /dev/ptmx" bash -c 'exec 3<>/dev/ptmx; ls /dev/pts | grep -q "^[0-9]"'
check "/tmp is a fresh tmpfs" sh -c 'test "$(stat -f -c %T /tmp)" = tmpfs && test -z "$(ls -A /tmp)"'
check "/run is tmpfs" sh -c 'test "$(stat -f -c %T /run)" = tmpfs'
check "ip netns add/del" sh -c 'ip netns add selftest && ip netns del selftest'
check "modprobe (module tree of $(uname -r))" modprobe veth
check "no network devices but lo" sh -c 'test "$(ls /sys/class/net)" = lo'
check "lo is up" sh -c 'ip -o link show lo | grep -q "UP"'
check "nproc = ${SELFTEST_CPUS:-2}" test "$(nproc)" = "${SELFTEST_CPUS:-2}"

if ((fails)); then
	echo "$fails check(s) failed"
	exit 99
fi
exit "$status"
