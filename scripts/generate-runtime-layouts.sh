#!/usr/bin/env bash
# Regenerates runtime-hooks' built-in runtime layouts (runtime-hooks/src/main/resources/dev/goemu/hooks/layouts/),
# one per Go release below, from fresh unstripped builds (see LayoutTableGenerator). RuntimeLayoutTest fails when a
# committed table is stale, and says to run this.
set -euo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
cd "$GOEMU_HOME"
select_jdk
ensure_capstone
# The releases of TestRelease (runtime-hooks' tests): Debian's Go 1.19 and three fetched toolchains.
RELEASES=(/usr/lib/go-1.19/bin/go go1.21.13 go1.26.8 go1.27.0)
mvn_goemu -pl runtime-hooks -am compile
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp loader/target/classes:syscalls/target/classes:runtime-hooks/target/classes \
  dev.goemu.hooks.LayoutTableGenerator runtime-hooks/src/main/resources/dev/goemu/hooks/layouts \
  runtime-hooks/target/layout-generator "${RELEASES[@]}"
