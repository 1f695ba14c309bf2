# Shared set-up for scripts/run and scripts/test: venv, project install, local PostGIS.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$ROOT/.data"
VENV="$ROOT/.venv"
mkdir -p "$DATA"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

# Installs Debian packages when allowed, else names the exact command to run.
ensure_debs() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  if ! as_root true; then
    echo "Callsight needs: ${missing[*]}. Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2
}

# Creates the venv and installs the project when pyproject.toml changed since the last install.
ensure_venv() {
  local stamp="$VENV/.installed" want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  [ -x "$VENV/bin/python" ] || { say "creating .venv"; python3 -m venv "$VENV"; }
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python dependencies"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[dev]" >&2
    echo "$want" >"$stamp"
  fi
}

# Starts the project-local PostgreSQL + PostGIS unless CALLSIGHT_DATABASE_URL names another.
ensure_database() {
  if [ -n "${CALLSIGHT_DATABASE_URL:-}" ]; then return 0; fi
  ensure_debs postgresql-15 postgresql-15-postgis-3
  "$ROOT/scripts/pg" start >&2
  CALLSIGHT_DATABASE_URL="$("$ROOT/scripts/pg" url)"
  export CALLSIGHT_DATABASE_URL
}

# Keeps a generated secret in the data folder so that restarts keep tokens valid.
data_secret() {
  local file="$DATA/$1"
  [ -s "$file" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  cat "$file"
}
