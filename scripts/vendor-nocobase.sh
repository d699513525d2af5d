#!/usr/bin/env bash
# NocoBase's own code, for the tests to run on what we render: @nocobase/server at each version our
# profile knows (its AES key loader), @nocobase/app and @nocobase/database at the default version
# (the env-to-config readers), @nocobase/plugin-auth (its token blacklist, on a real Redis through
# @nocobase/cache). One package tarball each (`npm pack`, no dependency tree) plus the few modules
# those files require. Cached (the stamp lists what was fetched); prints the folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
SERVER_VERSIONS=(1.9.62 2.0.0 2.2.15)  # the oldest and newest npm serves of each release we know
DEFAULT=2.2.15
DIR=$APPCLUSTER_CACHE/vendor/nocobase
STAMP="server ${SERVER_VERSIONS[*]}; app database plugin-auth cache $DEFAULT"
[ "$(cat "$DIR/.complete" 2>/dev/null)" = "$STAMP" ] && { echo "$DIR"; exit 0; }
command -v npm >/dev/null || { echo "npm (Node.js 18+) is needed to run NocoBase's code: apt-get install nodejs npm" >&2; exit 1; }
mkdir -p "$DIR"
unpack() {  # package@version folder
  mkdir -p "$DIR/$2"
  (cd "$DIR/$2" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
}
fetch() {
  for v in "${SERVER_VERSIONS[@]}"; do unpack "@nocobase/server@$v" "server-$v"; done
  unpack "@nocobase/app@$DEFAULT" "app-$DEFAULT"
  unpack "@nocobase/database@$DEFAULT" "database-$DEFAULT"
  unpack "@nocobase/plugin-auth@$DEFAULT" "plugin-auth-$DEFAULT"
  echo '{"name": "appcluster-vendor-nocobase", "private": true}' > "$DIR/package.json"
  # @nocobase/utils requires @formily/json-schema, flat and moment without declaring them, @nocobase/cache
  # deepmerge and async-mutex (the monorepo hoists them).
  (cd "$DIR" && npm install --silent --ignore-scripts --no-audit --no-fund fs-extra@11 "@nocobase/utils@$DEFAULT" \
    @formily/json-schema@2 flat@6 moment@2 "@nocobase/cache@$DEFAULT" deepmerge@4 async-mutex@0)
}
step "$DIR.log" "fetching NocoBase's server code (npm: @nocobase/server ${SERVER_VERSIONS[*]}, app, database, utils, plugin-auth, cache)" fetch
echo "$STAMP" > "$DIR/.complete"
echo "$DIR"
