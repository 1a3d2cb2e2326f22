#!/usr/bin/env bash
# The main job: synthesizes every environment into apps/<env>/cdktf.out.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/bootstrap.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
exec node_modules/.bin/nx run-many -t synth --outputStyle=static "$@"
