#!/usr/bin/env bash
# Every test: lint, typecheck, jest, synth, checkov and validation with the real
# engine (OpenTofu and the AWS provider, built once per machine by
# tools/terraform/toolchain.sh into ~/.cache/queue-lanes) of every environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/bootstrap.sh
# On a cold machine the engine's build is the longest step (8 minutes on 2 cores).
# It needs only the npm packages, so it starts now, beside the virtualenv's and
# apt's downloads, and validate's own call waits on its lock. (Run beside the
# tests instead, at a lower priority, it made the whole run longer: the tests
# starve it, and the tests that need the engine then run last, alone.) On a warm
# machine it is a cache check. setsid: its own process group, so leaving early
# stops the compilers too.
setsid bash tools/terraform/toolchain.sh >/dev/null 2>&1 &
early_build=$!
trap 'kill -- -"$early_build" 2>/dev/null || true' EXIT
bash tools/bootstrap.sh --test
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# Into a file or a CI log, no colour codes: Nx, jest and eslint (chalk, supports-color) all honour these.
if [[ ! -t 1 ]]; then export FORCE_COLOR=0 NO_COLOR=1; fi
node_modules/.bin/nx run-many -t lint typecheck test synth checkov validate --outputStyle=static --parallel=2 "$@"
