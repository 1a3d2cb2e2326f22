#!/usr/bin/env bash
# Deploy rehearsal of one environment against moto, offline: starts moto on a free
# 127.0.0.1 port, then tools/rehearsal/rehearse.ts creates the network the
# environment file points at, synthesizes a rehearsal copy, applies every stack in
# dependency order with the state in moto's S3, checks the cross-stack reads, plans
# again (the goal: no change), destroys in reverse order, and writes a report to
# .cache/rehearsal/<env>/report.md; then tools/rehearsal/rehearse-docs-route.ts runs
# README's deploy route as written through the cdktf CLI (docs-route.md beside it).
# moto and the scratch folder go away on any exit.
# Usage: tools/rehearsal/rehearse.sh [environment | fixture.yaml]   (default: staging)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
environment="${1:-staging}"
# A fixture file (tools/fixtures/every-option/fixture.yaml) is rehearsed like an environment;
# README's deploy route, which runs an app's folder, is for environments only.
file_args=()
if [[ "$environment" == *.yaml ]]; then
  file_args=(--file "$environment")
  environment="$(basename "$environment" .yaml)"
fi

bash tools/python-env.sh
bash tools/terraform/toolchain.sh all terraform

scratch="$(mktemp -d "${TMPDIR:-/tmp}/queue-lanes-rehearse.XXXXXX")"
report_dir="$root/.cache/rehearsal/$environment"
mkdir -p "$report_dir"
moto_pid=""
tool_pid=""
# Every process under $1, children first listed before theirs.
descendants() {
  local child
  for child in $(pgrep -P "$1"); do
    echo "$child"
    descendants "$child"
  done
}
cleanup() {
  local status=$?
  if [[ -n "$tool_pid" ]] && kill -0 "$tool_pid" 2>/dev/null; then
    # Stopped from outside: the tool's tofu gets TERM (it stops gracefully) and ten
    # seconds, then whatever is left of the tree the tool started (provider plugins
    # included) is killed by process id.
    local tree=() pid
    mapfile -t tree < <(descendants "$tool_pid")
    kill -TERM "${tree[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive=0
      for pid in "${tree[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [[ $alive == 0 ]] && break
      sleep 0.2
    done
    kill -KILL "${tree[@]}" 2>/dev/null || true
    kill -TERM "$tool_pid" 2>/dev/null || true
    wait "$tool_pid" 2>/dev/null || true
  fi
  if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  [[ -f "$scratch/moto.log" ]] && cp "$scratch/moto.log" "$report_dir/moto.log"
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/python tools/rehearsal/moto_rehearsal.py serve --ready "$scratch/moto.json" \
  --log "$scratch/moto-unsupported.log" --calls "$scratch/calls.jsonl" >"$scratch/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 300); do
  [[ -f "$scratch/moto.json" ]] && break
  kill -0 "$moto_pid" 2>/dev/null || { echo "rehearse: moto did not start:" >&2; cat "$scratch/moto.log" >&2; exit 1; }
  sleep 0.2
done
[[ -f "$scratch/moto.json" ]] || { echo "rehearse: moto did not answer within 60 s" >&2; exit 1; }

# In the background and waited for, so a TERM to this script runs the cleanup at once.
node tools/run-app.cjs tools/rehearsal/rehearse.ts --environment "$environment" \
  --moto "$scratch/moto.json" --scratch "$scratch" --report-dir "$report_dir" "${file_args[@]}" &
tool_pid=$!
wait "$tool_pid"
(( ${#file_args[@]} == 0 )) || exit 0

# Then README's deploy route as written, through the cdktf CLI, under each engine
# (its own moto, as the environment's account, per engine).
node tools/run-app.cjs tools/rehearsal/rehearse-docs-route.ts --environment "$environment" \
  --scratch "$scratch" --report-dir "$report_dir" &
tool_pid=$!
wait "$tool_pid"
