#!/usr/bin/env bash
# Every test: lint, typecheck, jest, synth and checkov of every environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/bootstrap.sh --test
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
exec node_modules/.bin/nx run-many -t lint typecheck test synth checkov --outputStyle=static --parallel=2 "$@"
