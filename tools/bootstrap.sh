#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine, and nothing twice:
# npm packages from package-lock.json with npm ci (skipped while node_modules matches it),
# and, with --test, the Python tools the tests use (.venv, see python-env.sh) and
# redis-server (Debian's package) for the backlog controller's tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.queue-lanes-lock.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  # npm ci: exactly the lockfile, which it never rewrites, so a fresh clone stays
  # clean. The lockfile lists every platform's optional binaries (@nx/nx-*); after
  # changing package.json, regenerate it with `npm install` and commit it whole.
  echo "bootstrap: npm ci (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

if [[ "${1:-}" == "--test" ]]; then
  bash tools/python-env.sh
  if ! command -v redis-server >/dev/null; then
    echo "bootstrap: apt-get install redis-server"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  fi
fi
