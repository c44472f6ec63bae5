#!/bin/bash
# Runs in the VM (tests/vm/selftest/run-all): resets the VM before the
# script can report a status.
echo "resetting the VM"
echo b > /proc/sysrq-trigger
sleep 10
