#!/usr/bin/env bash
# Every test: lint, typecheck, jest, synth, checkov and validation with the real
# engine (OpenTofu and the AWS provider, built once per machine by
# tools/terraform/toolchain.sh into ~/.cache/queue-lanes) of every environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/bootstrap.sh --test
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# Into a file or a CI log, no colour codes: Nx, jest and eslint (chalk, supports-color) all honour these.
if [[ ! -t 1 ]]; then export FORCE_COLOR=0 NO_COLOR=1; fi
exec node_modules/.bin/nx run-many -t lint typecheck test synth checkov validate --outputStyle=static --parallel=2 "$@"
