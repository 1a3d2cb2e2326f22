#!/usr/bin/env bash
# Scans every synthesized stack under a cdktf output folder with checkov's
# terraform_json framework. Skips live only in .checkov.yaml, each with its reason.
# Usage: tools/checkov.sh apps/<env>/cdktf.out
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: tools/checkov.sh <cdktf output folder>}"
[[ -d "$out/stacks" ]] || { echo "checkov: $out/stacks not found; synthesize first" >&2; exit 2; }

bash "$root/tools/python-env.sh"
# Offline: no guideline download (it needs the internet and only adds links).
export BC_SKIP_MAPPING=TRUE CHECKOV_NO_OUTPUT_COLORS=1
args=()
for stack in "$out"/stacks/*/; do args+=(--directory "$stack"); done
exec "$root/.venv/bin/checkov" "${args[@]}" --framework terraform_json --skip-download \
  --config-file "$root/.checkov.yaml" --quiet --compact
