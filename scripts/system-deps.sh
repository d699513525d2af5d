#!/usr/bin/env bash
# The Debian packages the tests and the local control plane use: nginx (`nginx -t` on the configs we
# generate), openssl (the control plane's certificates), gcc (kine's SQLite is cgo), curl (the
# health-check test), redis-server (NocoBase's token blacklist run on a Redis without Bloom filters).
# Installs what is missing when run as root; otherwise names the command.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
apt_need "$APPCLUSTER_CACHE/logs/apt.log" nginx=nginx-light openssl=openssl gcc=gcc curl=curl redis-server=redis-server
