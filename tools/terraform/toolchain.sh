#!/usr/bin/env bash
# Builds the Terraform engine the validate and rehearse targets run, offline:
# OpenTofu and the hashicorp/aws provider, both from the Go module proxy, the
# provider laid out as a filesystem mirror (tools/terraform/tofu.ts writes the CLI
# config that makes the mirror the only install source). Cached: GOMODCACHE and
# GOCACHE under .cache/go, binaries keyed by version, so a second run costs seconds.
# Usage: tools/terraform/toolchain.sh [all|tofu|provider]   (default: all)
# Writes .cache/tofu/toolchain.json: what was built and where.
# QUEUE_LANES_CACHE moves .cache elsewhere (to measure a cold build in an empty folder).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${QUEUE_LANES_CACHE:-$root/.cache}"
what="${1:-all}"

# OpenTofu: the newest release the proxy serves.
tofu_version=v1.12.6
# The provider version the prebuilt @cdktf/provider-aws bindings pin, and so the
# synthesized JSON (libs/stacks AWS_PROVIDER_VERSION).
aws_version=6.25.0
# github.com/hashicorp/terraform-provider-aws has no /v6 suffix, so the proxy
# serves it only by pseudo-version, and it has none for the v6.25.0 tag: this
# commit (2026-06-02) is the one it serves. It stands in for 6.25.0 in the
# mirror; toolchain.json records its own version (README, "Terraform validation").
aws_module_version=v1.60.1-0.20260602190131-5f2286d6d836

export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
# The module cache is read-only by default; -modcacherw lets the build (and rm -rf) in.
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
export GOMAXPROCS="${GOMAXPROCS:-2}" CGO_ENABLED=0
tofu_bin="$cache/tofu/bin/tofu-$tofu_version"
provider_bin="$cache/tofu/providers/terraform-provider-aws-$aws_module_version"
mirror="$cache/tofu/mirror"
mkdir -p "$(dirname "$tofu_bin")" "$(dirname "$provider_bin")" "$mirror" "$GOMODCACHE" "$GOCACHE"
# Nx runs both environments' validate at once: one builds, the other waits for it.
exec 9>"$cache/tofu/.lock"
flock 9

log() { echo "toolchain: $*" >&2; }

if [[ ( ! -x "$tofu_bin" || ! -x "$provider_bin" ) ]] && ! command -v go >/dev/null; then
  log "go is not on PATH, and OpenTofu and the AWS provider are built with it; install Go (any release from the last year) and run this again"
  exit 1
fi

# Downloads module@version through the proxy and prints its folder in the module cache.
module_dir() {
  local json
  json="$(go mod download -json "$1@$2")" || { log "the Go module proxy did not serve $1@$2"; return 1; }
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json"
}

# build MODULE VERSION PACKAGE OUT [go build flags...]
# `go install module@version` refuses modules whose go.mod has replace directives,
# so build inside the module's own folder, where its go.mod applies.
build() {
  local module="$1" version="$2" package="$3" out="$4" dir
  shift 4
  dir="$(module_dir "$module" "$version")"
  local total started=$SECONDS
  total="$(cd "$dir" && go list -deps "$package" 2>/dev/null | wc -l)"
  log "building $module@$version ($package, $total packages): once per version, cached in $cache/go; cold on 2 cores about 5 min for tofu, 35 for the provider"
  # go build -v names each package it compiles (cached ones it skips): count them,
  # and say how far it is every 100 packages and every minute, on a pipe too.
  (cd "$dir" && nice -n 10 go build -v -p "$GOMAXPROCS" -trimpath "$@" -o "$out.tmp" "$package") 2> >(progress "$module" "$total")
  mv "$out.tmp" "$out"
  log "built $module@$version in $(elapsed "$started")"
}

elapsed() { local s=$((SECONDS - $1)); echo "$((s / 60)) min $((s % 60)) s"; }

# progress MODULE TOTAL: reads go build -v's stderr; package lines are counted, anything else (errors) passes through.
progress() {
  local module="$1" total="$2" n=0 line last=$SECONDS started=$SECONDS
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Za-z0-9._~/+-]+$ ]]; then
      n=$((n + 1))
      if ((n % 100 == 0 || SECONDS - last >= 60)); then
        log "$module: $n of at most $total packages compiled, $(elapsed "$started")"
        last=$SECONDS
      fi
    else
      echo "$line" >&2
    fi
  done
}

build_tofu() {
  [[ -x "$tofu_bin" ]] || build github.com/opentofu/opentofu "$tofu_version" ./cmd/tofu "$tofu_bin" \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no"
  ln -sfn "$(basename "$tofu_bin")" "$cache/tofu/bin/tofu"
}

build_provider() {
  local dir real host target
  if [[ ! -x "$provider_bin" ]]; then
    dir="$(module_dir github.com/hashicorp/terraform-provider-aws "$aws_module_version")"
    real="$(tr -d '[:space:]' <"$dir/version/VERSION")"
    build github.com/hashicorp/terraform-provider-aws "$aws_module_version" . "$provider_bin" \
      -ldflags "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$real"
    echo "$real" >"$provider_bin.version"
  fi
  # OpenTofu resolves "hashicorp/aws" under its own registry host, Terraform under
  # HashiCorp's: the mirror answers for both. Hard links: no second copy on disk.
  for host in registry.terraform.io registry.opentofu.org; do
    target="$mirror/$host/hashicorp/aws/$aws_version/linux_amd64"
    mkdir -p "$target"
    ln -f "$provider_bin" "$target/terraform-provider-aws_v$aws_version"
  done
  log "hashicorp/aws $aws_version is served by the build of terraform-provider-aws@$aws_module_version (provider $(cat "$provider_bin.version"))"
}

built() { [[ -x "$1" ]] && echo true || echo false; }

write_manifest() {
  cat >"$cache/tofu/toolchain.json.tmp" <<EOF
{
  "tofu": { "version": "$tofu_version", "path": "$tofu_bin", "built": $(built "$tofu_bin") },
  "aws": {
    "version": "$aws_version",
    "module": "github.com/hashicorp/terraform-provider-aws@$aws_module_version",
    "builtVersion": "$(cat "$provider_bin.version" 2>/dev/null || true)",
    "path": "$provider_bin",
    "built": $(built "$provider_bin")
  },
  "mirror": "$mirror"
}
EOF
  mv "$cache/tofu/toolchain.json.tmp" "$cache/tofu/toolchain.json"
}

case "$what" in
  tofu) build_tofu ;;
  provider) build_provider ;;
  all) build_tofu; build_provider ;;
  *) echo "usage: tools/terraform/toolchain.sh [all|tofu|provider]" >&2; exit 2 ;;
esac
write_manifest
