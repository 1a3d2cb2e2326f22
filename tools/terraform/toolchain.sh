#!/usr/bin/env bash
# Builds the Terraform engine the validate and rehearse targets run, offline:
# OpenTofu and the hashicorp/aws provider, both from the Go module proxy, the
# provider laid out as a filesystem mirror (tools/terraform/tofu.ts writes the CLI
# config that makes the mirror the only install source).
# The provider is built with only the service packages that register a resource or
# data source the workspace imports (15 of 266): the rest of its code is the same,
# and a cold build takes minutes instead of most of an hour. A resource from a
# service not built fails validate as unsupported, never silently; importing it
# rebuilds the provider, mostly from the Go build cache.
# Cached per machine, outside any clone: GOMODCACHE and GOCACHE under <cache>/go,
# binaries keyed by version (and the provider by its service set), so a second run
# costs seconds and every clone on the machine shares one build.
# Usage: tools/terraform/toolchain.sh [all|tofu|provider|terraform]...   (default: all)
# terraform (HashiCorp's engine, not in all) is for the rehearsal's check that a
# state moves between the two engines.
# Writes <cache>/tofu/toolchain.json: what was built and where.
# <cache> is $QUEUE_LANES_CACHE, else $XDG_CACHE_HOME/queue-lanes, else ~/.cache/queue-lanes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${QUEUE_LANES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/queue-lanes}"

# OpenTofu: the newest release the proxy serves.
tofu_version=v1.12.6
# Terraform: the newest release the proxy serves.
terraform_version=v1.13.3
# The provider version the prebuilt @cdktf/provider-aws bindings pin, and so the
# synthesized JSON (libs/stacks AWS_PROVIDER_VERSION).
aws_version=6.25.0
# github.com/hashicorp/terraform-provider-aws has no /v6 suffix, so the proxy
# serves it only by pseudo-version, and it has none for the v6.25.0 tag: this
# commit (2026-06-02) is the one it serves. It stands in for 6.25.0 in the
# mirror; toolchain.json records its own version (docs/operations.md, "Terraform validation").
aws_module_version=v1.60.1-0.20260602190131-5f2286d6d836

export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
# The module cache is read-only by default; -modcacherw lets the build (and rm -rf) in.
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
export GOMAXPROCS="${GOMAXPROCS:-2}" CGO_ENABLED=0
log() { echo "toolchain: $*" >&2; }

# The resource and data source types the workspace imports, one per line, sorted:
# every deep import of a binding (@cdktf/provider-aws/lib/<name>), read from the
# binding's own tfResourceType.
imported_types() {
  local bindings="$root/node_modules/@cdktf/provider-aws/lib" name file
  [[ -d $bindings ]] || { log "$bindings is missing; run bash tools/bootstrap.sh first"; return 1; }
  grep -rhoE "@cdktf/provider-aws/lib/[a-z0-9-]+" "$root/libs" "$root/apps" "$root/tools" --include='*.ts' |
    sort -u | while read -r name; do
      name="${name##*/}"
      [[ $name == provider ]] && continue
      file="$bindings/$name/index.js"
      [[ -f $file ]] || { log "$name is imported but @cdktf/provider-aws has no lib/$name"; return 1; }
      sed -n 's/.*tfResourceType = "\([a-z0-9_]*\)".*/\1/p' "$file" | head -n 1
    done | sort -u
}

types="$(imported_types)"
types_key="$(sha256sum <<<"$types" | cut -c1-12)"
tofu_bin="$cache/tofu/bin/tofu-$tofu_version"
terraform_bin="$cache/tofu/bin/terraform-$terraform_version"
provider_bin="$cache/tofu/providers/terraform-provider-aws-$aws_module_version-$types_key"
mirror="$cache/tofu/mirror"
mkdir -p "$(dirname "$tofu_bin")" "$(dirname "$provider_bin")" "$mirror" "$GOMODCACHE" "$GOCACHE"
# One build at a time per machine (Nx runs both environments' validate at once, and
# a second clone may ask too): the others wait, and then find it built.
exec 9>"$cache/tofu/.lock"
if ! flock -n 9; then
  log "another build holds $cache/tofu/.lock; waiting for it"
  flock 9
fi

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
  local module="$1" version="$2"
  shift 2
  build_in "$(module_dir "$module" "$version")" "$module@$version" "$@"
}

# build_in DIR LABEL PACKAGE OUT [go build flags...]
build_in() {
  local dir="$1" label="$2" package="$3" out="$4"
  shift 4
  local total started=$SECONDS
  total="$(cd "$dir" && go list -deps "$package" 2>/dev/null | wc -l)"
  log "building $label ($package, $total packages): once, cached in $cache/go; cold on 2 cores about 5 min for tofu, 15 for the provider"
  # go build -v names each package it compiles (cached ones it skips): count them,
  # and say how far it is every 100 packages and every minute, on a pipe too.
  (cd "$dir" && nice -n 10 go build -v -p "$GOMAXPROCS" -trimpath "$@" -o "$out.tmp" "$package") 2> >(progress "$label" "$total")
  mv "$out.tmp" "$out"
  log "built $label in $(elapsed "$started")"
}

elapsed() { local s=$((SECONDS - $1)); echo "$((s / 60)) min $((s % 60)) s"; }

# progress LABEL TOTAL: reads go build -v's stderr; package lines are counted, anything else (errors) passes through.
progress() {
  local label="$1" total="$2" n=0 line last=$SECONDS started=$SECONDS
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Za-z0-9._~/+-]+$ ]]; then
      n=$((n + 1))
      if ((n % 100 == 0 || SECONDS - last >= 60)); then
        log "$label: $n of at most $total packages compiled, $(elapsed "$started")"
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

# The service packages (internal/service/<name>) that register the imported types,
# one per line; fails naming a type no package registers.
services_for() {
  local dir="$1" type found services=""
  while read -r type; do
    [[ -n $type ]] || continue
    found="$(grep -lE "TypeName: +\"$type\"," "$dir"/internal/service/*/service_package_gen.go | xargs -r -n 1 dirname | xargs -r -n 1 basename)"
    [[ -n $found ]] || { log "$type is imported, but no service package of terraform-provider-aws@$aws_module_version registers it"; return 1; }
    services+="$found"$'\n'
  done <<<"$types"
  sort -u <<<"$services" | sed '/^$/d'
}

# writable_copy DIR SRC: a copy of a module's folder we may edit (the module cache
# is read-only, and go build -overlay refuses files in it); made once, atomically.
writable_copy() {
  [[ -d $2 ]] && return 0
  rm -rf "$2.tmp"
  cp -r "$1" "$2.tmp"
  chmod -R u+w "$2.tmp"
  mv "$2.tmp" "$2"
}

# Writes the provider's source with only SERVICES (comma-separated) registered into
# SRC, a writable copy of the module whose two generated registries are cut down.
trimmed_source() {
  local dir="$1" src="$2" services="$3" clients
  writable_copy "$dir" "$src"
  # internal/provider/sdkv2: the service packages the provider registers.
  awk -v keep="$services" '
    BEGIN { n = split(keep, k, ","); for (i = 1; i <= n; i++) want[k[i]] = 1 }
    /internal\/service\/[a-z0-9]+"$/ { s = $0; sub(/.*internal\/service\//, "", s); sub(/"$/, "", s); if (!(s in want)) next }
    /^\t\t[a-z0-9]+\.ServicePackage\(ctx\),$/ { s = $0; sub(/^\t\t/, "", s); sub(/\..*/, "", s); if (!(s in want)) next }
    { print }
  ' "$dir/internal/provider/sdkv2/service_packages_gen.go" >"$src/internal/provider/sdkv2/service_packages_gen.go"
  # internal/conns: one client method per AWS SDK service, each importing that
  # service's SDK; keep the methods the provider's remaining code calls. The files
  # go through one grep (xargs cat): xargs grep fails (123) when one batch of them
  # calls no client, which depends on the service set.
  cp "$dir/internal/conns/awsclient_gen.go" "$src/internal/conns/awsclient_gen.go"
  clients="$(cd "$src" && go list -deps -f '{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}' . |
    grep -F "$src/" | grep -v '/internal/conns/awsclient_gen.go$' | xargs cat | grep -oE '\b[A-Z][A-Za-z0-9]*Client\(ctx' |
    sed 's/(ctx$//' | sort -u | paste -sd, -)"
  awk -v keep="$clients" '
    BEGIN { n = split(keep, k, ","); for (i = 1; i <= n; i++) want[k[i]] = 1 }
    NR == FNR {
      if ($1 == "func" && $3 == "*AWSClient)") { name = $4; sub(/\(ctx$/, "", name); pkg = $6; sub(/^\*/, "", pkg); sub(/\.Client$/, "", pkg); if (name in want) used[pkg] = 1 }
      next
    }
    skip > 0 { skip--; next }
    /^\t"github.com\/aws\/aws-sdk-go-v2\/service\/[a-z0-9]+"$/ { s = $0; sub(/.*\//, "", s); sub(/"$/, "", s); if (!(s in used)) next }
    $1 == "func" && $3 == "*AWSClient)" { name = $4; sub(/\(ctx$/, "", name); if (!(name in want)) { skip = 3; next } }
    { print }
  ' "$dir/internal/conns/awsclient_gen.go" "$dir/internal/conns/awsclient_gen.go" >"$src/internal/conns/awsclient_gen.go"
}

# Terraform's remote-state backends other than local, remote, http and inmem are
# modules of their own inside its repository (go.mod replace => ./internal/...),
# and the module proxy serves the root module without them. Built from a copy
# whose backend registry (internal/backend/init/init.go) leaves them out: the
# rehearsal gives Terraform each state as a local file.
build_terraform() {
  local dir src
  [[ -x "$terraform_bin" ]] && return 0
  dir="$(module_dir github.com/hashicorp/terraform "$terraform_version")"
  src="$cache/tofu/src/terraform@$terraform_version"
  writable_copy "$dir" "$src"
  local nested
  nested="$(sed -n 's#^replace github.com/hashicorp/terraform/internal/backend/remote-state/\([a-z0-9]*\) => .*#\1#p' "$dir/go.mod" | paste -sd'|' -)"
  awk -v nested="$nested" '
    BEGIN { n = split(nested, k, "|"); for (i = 1; i <= n; i++) { gone[k[i]] = 1 } gone["azurerm"] = gone["azure"] }
    /internal\/backend\/remote-state\/[a-z0-9]+"$/ { s = $0; sub(/.*remote-state\//, "", s); sub(/"$/, "", s); if (s in gone) next }
    /^\t\t"[a-z0-9]+": +func\(\) backend.Backend/ { s = $1; gsub(/[":]/, "", s); if (s in gone) next }
    { print }
  ' "$dir/internal/backend/init/init.go" >"$src/internal/backend/init/init.go"
  build_in "$src" "github.com/hashicorp/terraform@$terraform_version" . "$terraform_bin" \
    -ldflags "-s -w -X github.com/hashicorp/terraform/version.dev=no"
}

build_provider() {
  local dir src services real host target
  if [[ ! -x "$provider_bin" ]]; then
    dir="$(module_dir github.com/hashicorp/terraform-provider-aws "$aws_module_version")"
    services="$(services_for "$dir" | paste -sd, -)"
    log "the workspace imports $(wc -l <<<"$types") resource and data source types, from the service packages $services"
    src="$cache/tofu/src/terraform-provider-aws@$aws_module_version"
    mkdir -p "$(dirname "$src")"
    trimmed_source "$dir" "$src" "$services"
    real="$(tr -d '[:space:]' <"$dir/version/VERSION")"
    build_in "$src" "terraform-provider-aws@$aws_module_version" . "$provider_bin" \
      -ldflags "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$real"
    echo "$real" >"$provider_bin.version"
    echo "$services" >"$provider_bin.services"
  fi
  # OpenTofu resolves "hashicorp/aws" under its own registry host, Terraform under
  # HashiCorp's: the mirror answers for both. Hard links: no second copy on disk.
  for host in registry.terraform.io registry.opentofu.org; do
    target="$mirror/$host/hashicorp/aws/$aws_version/linux_amd64"
    mkdir -p "$target"
    ln -f "$provider_bin" "$target/terraform-provider-aws_v$aws_version"
  done
  log "hashicorp/aws $aws_version is served by the build of terraform-provider-aws@$aws_module_version (provider $(cat "$provider_bin.version"), services $(cat "$provider_bin.services"))"
}

built() { [[ -x "$1" ]] && echo true || echo false; }

write_manifest() {
  cat >"$cache/tofu/toolchain.json.tmp" <<EOF
{
  "tofu": { "version": "$tofu_version", "path": "$tofu_bin", "built": $(built "$tofu_bin") },
  "terraform": { "version": "$terraform_version", "path": "$terraform_bin", "built": $(built "$terraform_bin") },
  "aws": {
    "version": "$aws_version",
    "module": "github.com/hashicorp/terraform-provider-aws@$aws_module_version",
    "builtVersion": "$(cat "$provider_bin.version" 2>/dev/null || true)",
    "services": "$(cat "$provider_bin.services" 2>/dev/null || true)",
    "path": "$provider_bin",
    "built": $(built "$provider_bin")
  },
  "mirror": "$mirror"
}
EOF
  mv "$cache/tofu/toolchain.json.tmp" "$cache/tofu/toolchain.json"
}

for what in "${@:-all}"; do
  case "$what" in
    tofu) build_tofu ;;
    provider) build_provider ;;
    terraform) build_terraform ;;
    all) build_tofu; build_provider ;;
    *) echo "usage: tools/terraform/toolchain.sh [all|tofu|provider|terraform]..." >&2; exit 2 ;;
  esac
done
write_manifest
