#!/usr/bin/env bash
# Build the Pulumi engine from Go modules: the CLI, a Python language host and the Kubernetes
# provider, at the versions that match requirements.txt. Installs into a cache folder, reuses
# what is there, and prints the bin folder on stdout (progress goes to stderr).
#   scripts/build-engine.sh          build what is missing, print the bin folder
#   scripts/build-engine.sh --bin    print the bin folder only, exit 1 if the engine is incomplete
set -euo pipefail

PULUMI_VERSION=3.259.0
K8S_VERSION=4.25.0
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199  # the v4.25.0 release commit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
BIN=$APPCLUSTER_CACHE/engine/pulumi-$PULUMI_VERSION-kubernetes-$K8S_VERSION/bin
LOGS=$BIN/../logs
TOOLS=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-kubernetes)

complete() { for t in "${TOOLS[@]}"; do [ -x "$BIN/$t" ] || return 1; done; }

if [ "${1:-}" = "--bin" ]; then
  complete && { echo "$BIN"; exit 0; }
  exit 1
fi
if complete; then echo "$BIN"; exit 0; fi

require_go "the Pulumi engine"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$BIN"
begin=$SECONDS

build() {  # name, module dir, package, ldflags
  local name=$1 dir=$2 pkg=$3 ldflags=$4 start=$SECONDS
  [ -x "$BIN/$name" ] && return
  step "$LOGS/$name.log" "building $name (Go modules; the first build downloads them)" \
    bash -c "cd '$ROOT/engine/$dir' && go build -trimpath -o '$BIN/$name.partial' -ldflags '-s -w $ldflags' '$pkg'"
  mv "$BIN/$name.partial" "$BIN/$name"
  echo "$name $((SECONDS - start))s $(du -m "$BIN/$name" | cut -f1)MiB" >> "$BIN/../build-times.txt"
}

module_dir() { (cd "$ROOT/engine/$1" && go mod download -json "$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }

build pulumi cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

build pulumi-language-python python . "-X main.version=$PULUMI_VERSION"
if [ ! -x "$BIN/pulumi-language-python-exec" ]; then
  # The launcher the host runs programs with ships in the SDK module, next to the Go code.
  sdk=$(module_dir python "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
fi

if [ ! -x "$BIN/pulumi-resource-kubernetes" ]; then
  provider=$(module_dir kubernetes "$K8S_PROVIDER_MODULE@$K8S_PROVIDER_PSEUDO")
  install -m 0644 "$provider/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$ROOT/engine/kubernetes/"
  # What the release's go:generate step does: stamp the version into the schema it embeds.
  python3 - "$provider/cmd/pulumi-resource-kubernetes/schema.json" "$ROOT/engine/kubernetes/schema.json" "$K8S_VERSION" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
schema["version"] = sys.argv[3]
json.dump(schema, open(sys.argv[2], "w"))
PY
fi
build pulumi-resource-kubernetes kubernetes . "-X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_VERSION"

echo "==> Pulumi engine ready in $((SECONDS - begin))s: $("$BIN/pulumi" version)" >&2
echo "$BIN"
