#!/usr/bin/env bash
# The Debian packages the tests and the local control plane use: nginx (`nginx -t` on the configs we
# generate), openssl (the control plane's certificates), gcc (kine's SQLite is cgo), curl (the
# health-check test), redis-server (NocoBase's token blacklist run on a Redis without Bloom filters).
# Installs what is missing when run as root; otherwise names the command.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
declare -A need=([nginx]=nginx-light [openssl]=openssl [gcc]=gcc [curl]=curl [redis-server]=redis-server)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
step "$APPCLUSTER_CACHE/logs/apt.log" "installing ${missing[*]} (apt)" \
  bash -c "apt-get update -qq && apt-get install -y -qq ${missing[*]}"
