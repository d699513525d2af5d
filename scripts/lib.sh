# Shared by the build and cluster scripts: one progress line per step, with its elapsed time.
# A step's own output (Go's "downloading" lines, compiler noise) goes to a log file, shown only
# when the step fails.

APPCLUSTER_CACHE=${APPCLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/appcluster}

# step LOG "what" command...: run the command, its output into LOG; print "==> what … Ns".
step() {
  local log=$1 what=$2 start=$SECONDS
  shift 2
  mkdir -p "$(dirname "$log")"
  printf '==> %s …' "$what" >&2
  if "$@" >"$log" 2>&1; then
    printf ' %ss\n' $((SECONDS - start)) >&2
  else
    printf ' failed after %ss; the last lines of %s:\n' $((SECONDS - start)) "$log" >&2
    tail -n 25 "$log" >&2
    return 1
  fi
}

require_go() {
  command -v go >/dev/null && return 0
  echo "Go is needed to build $1: \`apt-get install golang-go\` or https://go.dev/dl/ (1.25 or later)" >&2
  return 1
}

# apt_need LOG [--no-install-recommends] command=package …: install the Debian packages whose command
# is missing (as root), or name the apt-get command that would (as anyone else, and fail).
apt_need() {
  local log=$1 opts="" pair missing=()
  shift
  if [ "${1:-}" = --no-install-recommends ]; then opts=$1; shift; fi
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || [ -x "/usr/sbin/${pair%%=*}" ] || missing+=("${pair#*=}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive step "$log" "installing ${missing[*]} (apt)" \
    bash -c "apt-get update -qq && apt-get install -y -qq $opts ${missing[*]}"
}
