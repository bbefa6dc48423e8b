#!/usr/bin/env bash
# Benchmarks goemu against native execution and qemu-user: median wall time of N runs of testdata
# programs (built with the machine's go), and the ratios goemu/native and goemu/qemu.
#
# Usage: bench/run.sh [-n RUNS] [-t TIMEOUT_S] [PROGRAM[:ARG,ARG...]...]
#   default programs: hello sha256 nbody (sha256 and nbody run ~0.5-1 s natively with their default input)
#   e.g. bench/run.sh -n 5 hello sha256:8,50 nbody:1000000
# Env: BENCH_RUNS (3), BENCH_TIMEOUT (600 s per run).
# A run that fails (non-zero exit, timeout, or stdout different from the native run's) makes its cell
# FAIL; the log is kept under bench/target/logs/. Output also goes to bench/target/results.txt.
set -uo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../scripts/lib.sh"
cd "$GOEMU_HOME"

runs=${BENCH_RUNS:-3}
timeout_s=${BENCH_TIMEOUT:-600}
while getopts "n:t:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "bench.sh: -n wants a positive number, got '$runs'"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(hello sha256 nbody)

out=$GOEMU_HOME/bench/target
rm -rf "$out/logs"
mkdir -p "$out/bin" "$out/logs"

command -v go >/dev/null || die "bench.sh: Go is needed to build the programs (https://go.dev/dl or apt-get install golang-go)"
if ! command -v qemu-x86_64 >/dev/null; then
  ( apt_install qemu-user ) || echo "bench: warning: no qemu-x86_64; its column will say n/a" >&2
fi
have_qemu=$(command -v qemu-x86_64 >/dev/null && echo 1 || echo 0)
[ -f emulator/target/goemu.jar ] || echo "bench: warning: emulator/target/goemu.jar missing (run ./build.sh); goemu cells will FAIL" >&2

programs=()
for s in "${specs[@]}"; do
  p=${s%%:*}
  [ -f "testdata/go/$p/main.go" ] || die "bench.sh: no program testdata/go/$p"
  programs+=("./$p")
done
(cd testdata/go && env -u GOROOT -u GOFLAGS CGO_ENABLED=0 GOTOOLCHAIN=local go build -o "$out/bin/" "${programs[@]}") \
  || die "bench.sh: go build failed"
gover=$(env -u GOROOT GOTOOLCHAIN=local go env GOVERSION)

# time_once LOG CMD...: prints the wall time in seconds; fails if the command fails, times out, or
# (when $ref is a file) prints something else than the reference.
time_once() {
  local log=$1 start end rc
  shift
  start=$(date +%s.%N)
  timeout -k 10 "$timeout_s" "$@" >"$log.stdout" 2>"$log.stderr" </dev/null
  rc=$?
  end=$(date +%s.%N)
  if [ $rc != 0 ]; then
    [ $rc = 124 ] && echo "(timed out after $timeout_s s)" >>"$log.stderr"
    echo "exit status $rc" >>"$log.stderr"
    return 1
  fi
  if [ -n "$ref" ] && ! cmp -s "$ref" "$log.stdout"; then
    echo "stdout differs from the native run's ($ref)" >>"$log.stderr"
    return 1
  fi
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

# median_of NAME ENGINE CMD...: median of $runs timings, or FAIL (stops at the first failure).
# Runs in a command substitution: failures are noted in a file.
: >"$out/logs/failures"
median_of() {
  local name=$1 engine=$2 i t times=()
  shift 2
  for ((i = 1; i <= runs; i++)); do
    echo "bench: $name / $engine: run $i of $runs" >&2
    if ! t=$(time_once "$out/logs/$name.$engine.$i" "$@"); then
      echo "FAIL: $name / $engine: $(head -n 1 "$out/logs/$name.$engine.$i.stderr" | cut -c1-120); see $out/logs/$name.$engine.$i.stderr" >>"$out/logs/failures"
      echo FAIL
      return
    fi
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
  case "$1$2" in *FAIL* | *n/a*) echo "-" ;; *) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx\n", a / b; else print "-" }' ;; esac
}

rows=()
for s in "${specs[@]}"; do
  p=${s%%:*}
  args=()
  [ "$s" != "$p" ] && IFS=, read -r -a args <<<"${s#*:}"
  bin=$out/bin/$p
  ref=""
  native=$(median_of "$p" native "$bin" "${args[@]}")
  ref=$out/logs/$p.native.1.stdout
  [ "$native" = FAIL ] && ref=""
  if [ "$have_qemu" = 1 ]; then qemu=$(median_of "$p" qemu qemu-x86_64 "$bin" "${args[@]}"); else qemu=n/a; fi
  goemu=$(median_of "$p" goemu ./goemu run -- "$bin" "${args[@]}")
  label=$p${args[*]:+ ${args[*]}}
  rows+=("$(printf '%-20s %10s %10s %10s %14s %12s' "$label" "$native" "$qemu" "$goemu" "$(ratio "$goemu" "$native")" "$(ratio "$goemu" "$qemu")")")
done

{
  echo "goemu benchmark: median wall time in seconds of $runs run(s); programs built with $gover"
  echo "$(uname -m), $(nproc) CPUs, $([ "$have_qemu" = 1 ] && qemu-x86_64 --version | head -1 || echo "no qemu-x86_64")"
  printf '%-20s %10s %10s %10s %14s %12s\n' program native qemu goemu goemu/native goemu/qemu
  printf '%s\n' "${rows[@]}"
  cat "$out/logs/failures"
} | tee "$out/results.txt"
