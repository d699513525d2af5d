#!/usr/bin/env bash
# Build the local Kubernetes control plane from Go modules: kine (the store, SQLite), kube-apiserver,
# kube-controller-manager and kube-scheduler (k8s.io/kubernetes through engine/cluster), and kwok
# (fake nodes), plus kwok's stage definitions. Reuses what is built; prints the bin folder.
#   scripts/build-cluster.sh          build what is missing, print the bin folder
#   scripts/build-cluster.sh --bin    print the bin folder only, exit 1 if something is missing
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"

K8S_VERSION=1.35.4
KINE=github.com/k3s-io/kine@v0.16.4
KWOK_MODULE=sigs.k8s.io/kwok
KWOK_VERSION=v0.8.0
DIR=$APPCLUSTER_CACHE/cluster-$K8S_VERSION
BIN=$DIR/bin
LOGS=$DIR/logs
TOOLS=(kine kwok kube-apiserver kube-controller-manager kube-scheduler kubectl)
# kwokctl's default stages, which a bare kwok needs to make nodes and pods Ready, without its
# pod-complete stage: that one marks every Job pod Succeeded unrun. Job pods stay Running until
# tools/jobrunner.py has run their command and reported its exit status. (A file of its own: a cache
# built before this change keeps its stages.yaml, which completes Job pods.)
STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
        pod/fast/pod-ready.yaml pod/fast/pod-delete.yaml)
STAGES_FILE=kwok-stages.yaml

complete() {
  for t in "${TOOLS[@]}"; do [ -x "$BIN/$t" ] || return 1; done
  [ -s "$DIR/$STAGES_FILE" ]
}
if [ "${1:-}" = "--bin" ]; then complete && { echo "$BIN"; exit 0; }; exit 1; fi
if complete; then echo "$BIN"; exit 0; fi

require_go "the local control plane"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=1
mkdir -p "$BIN"
start=$SECONDS
# Stamped as the release does: without it the binaries report v0.0.0-master, which clients distrust.
minor=${K8S_VERSION#*.}; minor=${minor%%.*}
v=k8s.io/component-base/version
version_flags="-X $v.gitVersion=v$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"

[ -x "$BIN/kine" ] || step "$LOGS/kine.log" "building kine ${KINE#*@} (store)" \
  env GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "$KINE"
[ -x "$BIN/kwok" ] || step "$LOGS/kwok.log" "building kwok $KWOK_VERSION (fake nodes)" \
  env GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "$KWOK_MODULE/cmd/kwok@$KWOK_VERSION"
if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ] || [ ! -x "$BIN/kube-scheduler" ]; then
  step "$LOGS/control-plane.log" "building kube-apiserver, kube-controller-manager, kube-scheduler v$K8S_VERSION" \
    bash -c "cd '$ROOT/engine/cluster' && go build -trimpath -o '$BIN/' -ldflags '-s -w $version_flags' \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler"
fi
# kubectl at the server's version: the tests run the upgrade Jobs' scripts with it.
[ -x "$BIN/kubectl" ] || step "$LOGS/kubectl.log" "building kubectl v$K8S_VERSION" \
  bash -c "cd '$ROOT/engine/cluster' && go build -trimpath -o '$BIN/' -ldflags '-s -w $version_flags' k8s.io/kubernetes/cmd/kubectl"
if [ ! -s "$DIR/$STAGES_FILE" ]; then
  kwok_dir=$(cd "$ROOT/engine/cluster" && go mod download -json "$KWOK_MODULE@$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  for s in "${STAGES[@]}"; do cat "$kwok_dir/kustomize/stage/$s"; echo "---"; done > "$DIR/$STAGES_FILE.partial"
  mv "$DIR/$STAGES_FILE.partial" "$DIR/$STAGES_FILE"
fi
echo "==> control plane ready in $((SECONDS - start))s: $BIN" >&2
echo "$BIN"
