#!/usr/bin/env bash
# Runs the unit tests and the conformance suite (Go test programs natively vs under goemu, per Go release).
set -euo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/scripts/lib.sh"
cd "$GOEMU_HOME"
select_jdk
ensure_unicorn
ensure_gcc
source scripts/go-releases.sh
ensure_go_releases
echo "goemu: testing with JDK at $JAVA_HOME, Go releases: $GOEMU_GO_RELEASES" >&2
mvn_goemu verify "$@"
