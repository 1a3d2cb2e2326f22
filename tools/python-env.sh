#!/usr/bin/env bash
# Creates .venv with the pinned Python tools in tools/requirements.txt (checkov,
# moto, pytest, boto3), once: a stamp holding the requirements' hash makes later
# runs a no-op.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/tools/requirements.txt" | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/tools/requirements.txt"
echo "$want" > "$stamp"
