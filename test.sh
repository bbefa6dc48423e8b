#!/usr/bin/env bash
# Runs the unit tests and the conformance suite (Go test programs natively vs under goemu, per Go release).
set -euo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/scripts/lib.sh"
cd "$GOEMU_HOME"
select_jdk
ensure_unicorn
ensure_capstone
ensure_gcc
source scripts/go-releases.sh
ensure_go_releases
echo "goemu: testing with JDK at $JAVA_HOME, Go releases: $GOEMU_GO_RELEASES" >&2
status=0
rm -rf ./*/target/surefire-reports # the summary below counts this run's reports only
mvn_goemu verify "$@" || status=$?
# verify repackaged the jar, which outdates build.sh's start-up record and AOT cache: make them again.
if [ -f "$GOEMU_JAR" ] && [ ! "$GOEMU_AOT_CACHE" -nt "$GOEMU_JAR" ]; then (prepare_launch) || true; fi
# One closing line over all modules' Surefire reports (Maven runs quietly, so it prints no summary itself).
python3 - <<'PY'
import glob, re
tests = failed = skipped = 0
for f in glob.glob("*/target/surefire-reports/TEST-*.xml"):
    head = open(f, encoding="utf-8").read(4096)
    m = re.search(r"<testsuite\b[^>]*", head)
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(0))) if m else {}
    tests += int(attrs.get("tests", 0))
    failed += int(attrs.get("failures", 0)) + int(attrs.get("errors", 0))
    skipped += int(attrs.get("skipped", 0))
print(f"tests: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit $status
