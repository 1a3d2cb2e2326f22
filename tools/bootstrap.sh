#!/usr/bin/env bash
# Installs what the workspace needs on a fresh machine, and nothing twice:
# npm packages from package-lock.json with npm ci (skipped while node_modules matches it),
# and, with --test, the Python tools the tests use (.venv, see python-env.sh),
# redis-server for the backlog controller's tests, supervisor for the host
# agent's, and for the worker harness PHP 8.2 with phpredis, Debian's Laravel 8.83
# (php-laravel-framework), Guzzle, curl and SQLite for its wake-up cases, and tini (Debian's packages).
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
  # apt-get update only when a package is missing: it is the slow part.
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v supervisord >/dev/null || missing+=(supervisor)
  command -v php >/dev/null || missing+=(php8.2-cli)
  php -r 'exit(extension_loaded("redis") ? 0 : 1);' 2>/dev/null || missing+=(php-redis)
  [[ -f /usr/share/php/Illuminate/autoload.php ]] || missing+=(php-laravel-framework)
  # The wake-up listener's harness cases: Guzzle over curl (the AWS SDK's HTTP client), SQLite for batches.
  php -r 'exit(extension_loaded("curl") ? 0 : 1);' 2>/dev/null || missing+=(php-curl)
  php -r 'exit(extension_loaded("pdo_sqlite") ? 0 : 1);' 2>/dev/null || missing+=(php-sqlite3)
  [[ -f /usr/share/php/GuzzleHttp/autoload.php ]] || missing+=(php-guzzlehttp-guzzle)
  command -v tini >/dev/null || missing+=(tini)
  if (( ${#missing[@]} > 0 )); then
    echo "bootstrap: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
