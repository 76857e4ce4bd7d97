#!/usr/bin/env bash
# ensure-postgres.sh makes sure PostgreSQL's server programs (initdb and
# postgres) are installed, looking where store/pglocal's FindBinDir looks:
# `pg_config --bindir`, then /usr/lib/postgresql/*/bin, then initdb on PATH.
# When they are missing it installs the postgresql package if it can (root with
# apt-get), and otherwise says what to install and fails. Quiet when all is
# present; safe to run again.
#
# The Debian package starts a cluster of its own on port 5432; Walnut never
# uses it (pglocal runs its own server on a Unix socket, no TCP), so it is left
# alone.
set -euo pipefail

has_server() { [[ -x $1/initdb && -x $1/postgres ]]; }

server_found() {
	local dir
	if dir=$(pg_config --bindir 2>/dev/null) && has_server "$dir"; then
		return 0
	fi
	for dir in /usr/lib/postgresql/*/bin; do
		if has_server "$dir"; then
			return 0
		fi
	done
	if dir=$(command -v initdb 2>/dev/null) && has_server "$(dirname "$dir")"; then
		return 0
	fi
	return 1
}

if server_found; then
	exit 0
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "ensure-postgres: PostgreSQL server not found; installing it: apt-get install postgresql" >&2
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; } >"$log" 2>&1; then
		cat "$log" >&2
		echo "ensure-postgres: installing postgresql failed (output above)" >&2
		exit 1
	fi
	if server_found; then
		exit 0
	fi
	echo "ensure-postgres: the postgresql package is installed but initdb and postgres are still not found" >&2
	exit 1
fi

cat >&2 <<'MSG'
ensure-postgres: PostgreSQL server binaries not found (looked in: pg_config --bindir, /usr/lib/postgresql/*/bin, PATH).
Install them:
  Debian/Ubuntu:  sudo apt-get install postgresql
  Fedora/RHEL:    sudo dnf install postgresql-server
  macOS:          brew install postgresql
or point Walnut at an existing server: DATABASE_URL (walnut serve) or TEST_DATABASE_URL (tests).
MSG
exit 1
