#!/bin/bash
# Runs in the VM (tests/vm/selftest/run-all): never finishes (timeout check).
echo "sleeping"
sleep 1000
