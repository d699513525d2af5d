#!/usr/bin/env bash
# `make up`: deploy the local stack with the real Pulumi engine, built from Go modules the first time.
#   scripts/up.sh            render mode: the manifests land in rendered/local/ (no cluster needed)
#   scripts/up.sh --cluster  into the local control plane (scripts/cluster.sh, started if needed),
#                            then the pods are listed
# File backend and the stack's project in .state/ (tools/local_stack.py, which also selects the stack and
# generates its secrets, under a lock): the checkout stays clean.
# The passphrase below is for these local stacks only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
STACK=${STACK:-local}
PY=$ROOT/.venv/bin/python
cluster=
if [ "${1:-}" = "--cluster" ]; then cluster=1; shift; fi

if ! command -v pulumi >/dev/null && ! command -v go >/dev/null && ! scripts/build-engine.sh --bin >/dev/null; then
  cat >&2 <<'MSG'
The Pulumi CLI is not installed and Go is not available to build it.
Install the CLI (https://www.pulumi.com/docs/install/) or Go (https://go.dev/dl/, then `make engine`).
Meanwhile, here is the offline plan of the local stack (Pulumi's mocks, no engine):
MSG
  exec "$PY" -m tools.offline plan --stack "$STACK"
fi

begin=$SECONDS
if command -v pulumi >/dev/null && [ -z "${APPCLUSTER_USE_BUILT_ENGINE:-}" ]; then
  bin_dir=$(dirname "$(command -v pulumi)")
else
  bin_dir=$(scripts/build-engine.sh)
fi
export PATH="$bin_dir:$PATH"
export PULUMI_HOME="$ROOT/.state/pulumi-home"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-appcluster-local-only}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p .state/backend rendered
chmod 700 .state rendered

name=$STACK
if [ -n "$cluster" ]; then
  kubeconfig=$(scripts/cluster.sh up)
  name=$STACK-cluster
  project=$("$PY" -m tools.local_stack prepare "$STACK" --cluster "$kubeconfig")
  # No storage provisioner in the local control plane: a volume per claim, as one would make.
  "$PY" -m tools.local_volumes "$project/Pulumi.$name.yaml" "$kubeconfig"
else
  project=$("$PY" -m tools.local_stack prepare "$STACK")
fi
cd "$project"
umask 077  # render mode writes Secret manifests in plain text
echo "==> pulumi up --stack $name" >&2
pulumi up --non-interactive --stack "$name" --yes --skip-preview "$@"
# Folders made before this run keep their mode: make the whole tree owner-only.
chmod -R go-rwx "$ROOT/rendered"
if [ -n "$cluster" ]; then
  "$("$ROOT/scripts/build-cluster.sh" --bin)/kubectl" --kubeconfig "$kubeconfig" get pods -o wide \
    --namespace "$(pulumi stack output namespace)"
fi
echo "==> done in $((SECONDS - begin))s" >&2
