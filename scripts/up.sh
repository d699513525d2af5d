#!/usr/bin/env bash
# `make up`: deploy the local stack with the real Pulumi engine.
# Local file backend in .state/, passphrase secrets (the passphrase below is for this local stack
# only), the Kubernetes provider in render mode writing rendered/local/ (or a real cluster when
# appcluster:kubernetes sets kubeconfig/context and drops renderYamlToDirectory).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STACK=${STACK:-local}
PY=.venv/bin/python

if ! command -v pulumi >/dev/null && ! command -v go >/dev/null && ! scripts/build-engine.sh --bin >/dev/null; then
  cat >&2 <<'MSG'
The Pulumi CLI is not installed and Go is not available to build it.
Install the CLI (https://www.pulumi.com/docs/install/) or Go (https://go.dev/dl/, then `make engine`).
Meanwhile, here is the offline plan of the local stack (Pulumi's mocks, no engine):
MSG
  exec "$PY" -m tools.offline plan --stack "$STACK"
fi

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

pulumi login --non-interactive "file://$ROOT/.state/backend" >&2
pulumi stack select --non-interactive --create --secrets-provider passphrase "$STACK" >&2
for key in $("$PY" -m tools.stack_secrets "Pulumi.$STACK.yaml"); do
  echo "==> generating appcluster:secrets.$key (kept encrypted in Pulumi.$STACK.yaml)" >&2
  pulumi config set --non-interactive --secret --path "appcluster:secrets.$key" "$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
done
umask 077  # render mode writes Secret manifests in plain text
pulumi up --non-interactive --yes --skip-preview "$@"
# Folders made before this run keep their mode: make the whole tree owner-only.
chmod -R go-rwx rendered
