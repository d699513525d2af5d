#!/usr/bin/env bash
# A local Kubernetes control plane, every process on 127.0.0.1: kine (SQLite), kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok with three fake nodes in three zones (pods become
# Ready, but no container runs), and tools/jobrunner.py, which runs the pods of Jobs on this machine
# (their scripts, with a real kubectl as their ServiceAccount) and reports their real exit status.
#   scripts/cluster.sh up      build if needed, start, wait until the nodes are Ready; prints the kubeconfig path
#   scripts/cluster.sh down    stop every process by its PID file
#   scripts/cluster.sh status
# CLUSTER_DIR (default .state/cluster) holds certificates, kubeconfigs, PIDs, logs and the database;
# CLUSTER_PORT (default 6443) is the API server's port, the next one is kine's.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
DIR=${CLUSTER_DIR:-$ROOT/.state/cluster}
API_PORT=${CLUSTER_PORT:-6443}
KINE_PORT=$((API_PORT + 1))
KWOK_PORT=$((API_PORT + 2))
PROCS=(kine kube-apiserver kube-controller-manager kube-scheduler kwok jobrunner)
ZONES=(zone-a zone-b zone-c)

running() { [ -f "$DIR/pids/$1" ] && kill -0 "$(cat "$DIR/pids/$1")" 2>/dev/null; }

down() {
  local p pid
  for ((i = ${#PROCS[@]} - 1; i >= 0; i--)); do
    p=${PROCS[$i]}
    [ -f "$DIR/pids/$p" ] || continue
    pid=$(cat "$DIR/pids/$p")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$DIR/pids/$p"
  done
}

certificates() {
  local pki=$DIR/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 -subj "/CN=appcluster-local-ca"
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" -subj "/CN=kube-apiserver"
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' > "$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -out "$pki/apiserver.crt" -days 30 -extfile "$pki/san.ext"
  openssl genrsa -out "$pki/sa.key" 2048
  # Static tokens: the only users there are (admin, the two controllers, kwok).
  : > "$pki/tokens.csv"
  for user in admin:system:masters kube-controller-manager: kube-scheduler: kwok:system:masters; do
    name=${user%%:*} group=${user#*:}
    token=$(openssl rand -hex 24)
    case $name in
      kube-controller-manager|kube-scheduler) subject=system:$name ;;
      *) subject=$name ;;
    esac
    echo "$token,$subject,$subject${group:+,\"$group\"}" >> "$pki/tokens.csv"
    kubeconfig "$name" "$token"
  done
  chmod -R go-rwx "$DIR"
}

kubeconfig() {  # name token
  cat > "$DIR/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$DIR/pki/ca.crt"}}]
users: [{name: $1, user: {token: "$2"}}]
contexts: [{name: appcluster-local, context: {cluster: local, user: $1}}]
current-context: appcluster-local
KC
}

start() {  # name args...: $BIN/name, or the command that follows the name
  local name=$1
  shift
  running "$name" && return 0
  if [ -x "$BIN/$name" ]; then set -- "$BIN/$name" "$@"; fi
  "$@" > "$DIR/logs/$name.log" 2>&1 &
  echo $! > "$DIR/pids/$name"
}

api() {  # method path [json]
  curl -sS --fail-with-body --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $(admin_token)" \
    -H "Content-Type: application/json" -X "$1" "https://127.0.0.1:$API_PORT$2" ${3:+-d "$3"}
}
admin_token() { sed -n 's/^\([^,]*\),admin,.*/\1/p' "$DIR/pki/tokens.csv"; }

wait_for() {  # what seconds command...
  local what=$1 seconds=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    for p in "${PROCS[@]}"; do
      if [ -f "$DIR/pids/$p" ] && ! running "$p"; then
        echo "the local control plane: $p exited; the end of $DIR/logs/$p.log:" >&2
        tail -n 5 "$DIR/logs/$p.log" >&2
        return 1
      fi
    done
    if ((SECONDS - start >= seconds)); then
      echo "the local control plane: $what not ready after ${seconds}s; logs in $DIR/logs" >&2
      return 1
    fi
    sleep 0.5
  done
}

nodes_ready() {
  [ "$(api GET /api/v1/nodes | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin)["items"] for c in n["status"].get("conditions", []) if c["type"] == "Ready" and c["status"] == "True"))')" -ge ${#ZONES[@]} ]
}

up() {
  BIN=$("$ROOT/scripts/build-cluster.sh")
  local begin=$SECONDS
  mkdir -p "$DIR/pids" "$DIR/logs"
  [ -f "$DIR/pki/tokens.csv" ] || certificates > "$DIR/logs/pki.log" 2>&1
  local pki=$DIR/pki
  start kine --listen-address "127.0.0.1:$KINE_PORT" --metrics-bind-address 0 \
    --endpoint "sqlite://$DIR/state.db?_journal=WAL&cache=shared&_busy_timeout=30000"
  # --allow-privileged as real clusters run it: then Pod Security admission, not validation, is what
  # refuses a privileged pod in a namespace that enforces baseline.
  start kube-apiserver --etcd-servers "http://127.0.0.1:$KINE_PORT" --storage-media-type application/json \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --requestheader-client-ca-file "$pki/ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --service-account-key-file "$pki/sa.key" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --token-auth-file "$pki/tokens.csv" --authorization-mode Node,RBAC \
    --service-cluster-ip-range 10.96.0.0/16 --profiling=false \
    --allow-privileged=true
  wait_for "kube-apiserver /readyz" 60 api GET /readyz
  start kube-controller-manager --kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-route,-service' --profiling=false
  start kube-scheduler --kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$DIR/kube-scheduler.kubeconfig" --authorization-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false
  # Node leases renewed as kubelets do (kwokctl's default): without them the node lifecycle controller
  # marks every node NotReady after its grace period and every pod with it.
  start kwok --kubeconfig "$DIR/kwok.kubeconfig" --manage-all-nodes=true --config "$(dirname "$BIN")/kwok-stages.yaml" \
    --server-address "127.0.0.1:$KWOK_PORT" --node-ip 127.0.0.1 --node-lease-duration-seconds 40
  local i=0 zone
  for zone in "${ZONES[@]}"; do
    i=$((i + 1))
    api GET "/api/v1/nodes/node-$i" >/dev/null 2>&1 || api POST /api/v1/nodes "$(cat <<JSON
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-$i", "annotations": {"kwok.x-k8s.io/node": "fake"},
 "labels": {"kubernetes.io/hostname": "node-$i", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": "$zone", "type": "kwok"}},
 "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
            "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}}}
JSON
)" >/dev/null
  done
  wait_for "three Ready nodes" 60 nodes_ready
  start jobrunner python3 "$ROOT/tools/jobrunner.py" --cluster-dir "$DIR" --port "$API_PORT" --kubectl "$BIN/kubectl"
  wait_for "the job runner" 10 test -d "$DIR/jobs"
  echo "==> local control plane up in $((SECONDS - begin))s: https://127.0.0.1:$API_PORT (kubeconfig $DIR/admin.kubeconfig)" >&2
  echo "$DIR/admin.kubeconfig"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) for p in "${PROCS[@]}"; do if running "$p"; then echo "$p: running ($(cat "$DIR/pids/$p"))"; else echo "$p: stopped"; fi; done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
