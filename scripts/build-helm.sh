#!/usr/bin/env bash
# Build the helm CLI from its Go module. The offline toolbox renders local Helm charts with it, so
# the policy pack judges what a chart would deploy (the real engine's provider embeds Helm itself).
#   scripts/build-helm.sh          build it if missing, print its path
#   scripts/build-helm.sh --bin    print its path only, exit 1 if it is not built
set -euo pipefail

HELM_VERSION=3.22.0

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
BIN=$APPCLUSTER_CACHE/helm-$HELM_VERSION/bin

if [ -x "$BIN/helm" ]; then echo "$BIN/helm"; exit 0; fi
[ "${1:-}" = "--bin" ] && exit 1

require_go "helm"
mkdir -p "$BIN"
# Outside any module: `go install pkg@version` builds exactly the module's own go.mod.
step "$BIN/../build.log" "building helm $HELM_VERSION (Go modules)" \
  env GOTOOLCHAIN=local GOFLAGS= GOBIN="$BIN/partial" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
mv "$BIN/partial/helm" "$BIN/helm" && rmdir "$BIN/partial"
echo "$BIN/helm"
