# Go releases for the conformance suite (testdata/). Sourced by test.sh after scripts/lib.sh.
#
# ensure_go_releases exports GOEMU_GO_RELEASES: a space-separated list of absolute paths of `go`
# commands, one per Go release, no two of the same version:
#   - the machine's `go` (Debian's golang-go is installed if there is none),
#   - the toolchains in GOEMU_GO_TOOLCHAINS, fetched as golang.org/toolchain modules through the Go
#     module proxy (GOTOOLCHAIN=<version> go env GOROOT; with a go older than 1.21, go mod download),
#   - Debian's Go 1.19 (/usr/lib/go-1.19/bin/go, package golang-1.19-go).
# Binaries "in the wild" come from all of these: 1.19 is the oldest the runtime hooks are written
# against, 1.21 is the first with the newer timer and pidfd code, 1.27 is what new binaries use.
# A preset GOEMU_GO_RELEASES is used as it is (each entry must be an executable go).
# Quiet on success; says what it downloads or installs. A release that cannot be had is a warning,
# not an error, unless none is left.

# Space-separated entries; an entry "a,b,c" means the first of a, b, c that the proxy has.
GOEMU_GO_TOOLCHAINS=${GOEMU_GO_TOOLCHAINS:-"go1.21.13 go1.27.0,go1.27rc2,go1.27rc1"}
GOEMU_GO_DEBIAN=${GOEMU_GO_DEBIAN:-/usr/lib/go-1.19/bin/go}

# Runs a go command isolated from the caller's Go settings that would change which toolchain runs.
_goemu_go() {
  env -u GOROOT -u GOFLAGS -u GOWORK GOTOOLCHAIN="${_GOEMU_GOTOOLCHAIN:-local}" "$@"
}

# Prints the GOVERSION of a go command (go1.21.13), or fails.
_goemu_go_version() {
  local v
  v=$(cd / && _goemu_go "$1" env GOVERSION 2>/dev/null) && [ -n "$v" ] && echo "$v"
}

# Minor version of a GOVERSION string: go1.27rc1 -> 27.
_goemu_go_minor() {
  local m
  m=$(echo "$1" | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')
  echo "${m:-0}"
}

# Prints the path of bin/go of toolchain $1 (e.g. go1.21.13), downloading it with go command $2.
_goemu_go_toolchain() {
  local version=$1 fetcher=$2 modcache platform dir err
  modcache=$(cd / && _goemu_go "$fetcher" env GOMODCACHE) || return 1
  platform=$(cd / && _goemu_go "$fetcher" env GOHOSTOS)-$(cd / && _goemu_go "$fetcher" env GOHOSTARCH) || return 1
  dir=$modcache/golang.org/toolchain@v0.0.1-$version.$platform
  if [ ! -x "$dir/bin/go" ]; then
    echo "goemu: downloading Go toolchain $version (golang.org/toolchain module, Go module proxy)" >&2
    if [ "$(_goemu_go_minor "$(_goemu_go_version "$fetcher")")" -ge 21 ]; then
      # The go command switches to (and first downloads) the toolchain GOTOOLCHAIN names.
      err=$(cd / && _GOEMU_GOTOOLCHAIN=$version _goemu_go "$fetcher" env GOROOT 2>&1 >/dev/null) || {
        echo "goemu: $version: ${err:-download failed}" >&2; return 1; }
    else
      # Older go commands know no GOTOOLCHAIN: fetch the module, then restore the exec bits that
      # module zips do not keep (what the go command does itself when it switches toolchains).
      local tmp rc=0
      tmp=$(mktemp -d) || return 1
      err=$(cd "$tmp" && _goemu_go "$fetcher" mod download "golang.org/toolchain@v0.0.1-$version.$platform" 2>&1) || rc=$?
      rmdir "$tmp" 2>/dev/null
      [ $rc = 0 ] || { echo "goemu: $version: ${err:-download failed}" >&2; return 1; }
      find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod a+x {} + 2>/dev/null
    fi
  fi
  [ -x "$dir/bin/go" ] && _goemu_go_version "$dir/bin/go" >/dev/null || {
    echo "goemu: $version: no working go command in $dir" >&2; return 1; }
  echo "$dir/bin/go"
}

ensure_go_releases() {
  local go
  if [ -n "${GOEMU_GO_RELEASES:-}" ]; then
    for go in $GOEMU_GO_RELEASES; do
      [ -x "$go" ] && _goemu_go_version "$go" >/dev/null || die "GOEMU_GO_RELEASES: $go is not a working go command"
    done
    export GOEMU_GO_RELEASES
    return
  fi

  local host_go
  if ! host_go=$(command -v go); then
    command -v apt-get >/dev/null || die "Go is needed to build the test programs: install it (https://go.dev/dl) or put go on PATH"
    apt_install golang-go
    host_go=$(command -v go) || die "golang-go installed, but there is still no go on PATH"
  fi
  host_go=$(readlink -f "$host_go")
  _goemu_go_version "$host_go" >/dev/null || die "$host_go does not work (go env GOVERSION failed)"

  if [ ! -x "$GOEMU_GO_DEBIAN" ] && [ "$GOEMU_GO_DEBIAN" = /usr/lib/go-1.19/bin/go ]; then
    if command -v apt-get >/dev/null; then
      ( apt_install golang-1.19-go ) || echo "goemu: warning: could not install golang-1.19-go; testing without Go 1.19" >&2
    else
      echo "goemu: warning: no $GOEMU_GO_DEBIAN and no apt-get; testing without Go 1.19" >&2
    fi
  fi

  local candidates=("$host_go") entry alt path fetcher=$host_go
  for entry in $GOEMU_GO_TOOLCHAINS; do
    path=""
    for alt in ${entry//,/ }; do
      if path=$(_goemu_go_toolchain "$alt" "$fetcher"); then break; fi
      path=""
    done
    if [ -n "$path" ]; then
      candidates+=("$path")
      # A go older than 1.21 cannot switch toolchains; a fetched newer one can fetch the rest.
      [ "$(_goemu_go_minor "$(_goemu_go_version "$fetcher")")" -ge 21 ] || fetcher=$path
    else
      echo "goemu: warning: none of ${entry//,/, } could be fetched; testing without it" >&2
    fi
  done
  [ -x "$GOEMU_GO_DEBIAN" ] && candidates+=("$GOEMU_GO_DEBIAN")

  local list="" seen=" " v
  for go in "${candidates[@]}"; do
    v=$(_goemu_go_version "$go") || { echo "goemu: warning: $go does not work; skipped" >&2; continue; }
    case "$seen" in *" $v "*) continue ;; esac
    seen="$seen$v "
    list="${list:+$list }$go"
  done
  [ -n "$list" ] || die "no working Go release found"
  export GOEMU_GO_RELEASES=$list
}
