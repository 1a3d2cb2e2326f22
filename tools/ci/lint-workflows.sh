#!/usr/bin/env bash
# Lints the GitHub Actions workflows with the field's own linters, pinned, offline:
# actionlint (syntax, expressions, runner labels, action inputs; built once with Go into
# the per-machine cache) and zizmor (security: unpinned actions, persisted credentials,
# template injection; from tools/requirements.txt, in .venv). tools/ci/workflow.test.ts
# keeps only this project's own checks (targets exist, nothing deploys from a pull request).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
actionlint_version=v1.7.12
cache="${QUEUE_LANES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/queue-lanes}"
actionlint="$cache/tools/actionlint-$actionlint_version"

if [[ ! -x "$actionlint" ]]; then
  echo "lint-workflows: building actionlint $actionlint_version (once per machine)"
  mkdir -p "$cache/tools"
  gobin="$(mktemp -d)"
  # The Go module and build caches the real-engine toolchain uses (tools/terraform/toolchain.sh).
  GOBIN="$gobin" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOFLAGS=-modcacherw \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
  mv "$gobin/actionlint" "$actionlint"
  rmdir "$gobin"
fi
bash tools/python-env.sh

workflows=(.github/workflows/*.yml)
"$actionlint" "${workflows[@]}"
# Offline: no GitHub API (this machine has none); --min-severity low reports everything but informational findings.
.venv/bin/zizmor --offline --min-severity low "${workflows[@]}"
