#!/usr/bin/env bash
# Builds goemu (skipping tests), its start-up record and AOT cache (scripts/lib.sh prepare_launch) and the bundled
# example examples/main_bin.
set -euo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/scripts/lib.sh"
cd "$GOEMU_HOME"
select_jdk
ensure_unicorn
ensure_capstone
ensure_gcc
echo "goemu: building with JDK at $JAVA_HOME" >&2
mvn_goemu -DskipTests package
command -v go >/dev/null || die "Go is needed to build the example (https://go.dev/dl or apt-get install golang)"
prepare_launch
CGO_ENABLED=0 go build -o examples/main_bin examples/main.go
echo "goemu: built emulator/target/goemu.jar and examples/main_bin" >&2
