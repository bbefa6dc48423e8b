#!/usr/bin/env bash
# Benchmarks goemu against native execution and qemu-user: median wall time of N runs of testdata programs
# (built with the machine's go), the ratios goemu/native and goemu/qemu, and whether the speed targets hold.
#
# Usage: bench/run.sh [-n RUNS] [-t TIMEOUT_S] [SPEC...], SPEC = PROGRAM[:ARG,ARG...] or overhead[:ITERATIONS]
#   default: hello sha256:4,200 nbody:8000000 pingpong:503,4000000 gcchurn:3 overhead
#   (each program with these arguments runs about 1-2 s natively, hello excepted)
#   e.g. bench/run.sh -n 5 hello sha256:8,50 nbody:1000000
# Env: BENCH_RUNS (3), BENCH_TIMEOUT (1200 s per run).
# Targets: goemu/qemu <= 0.5 for sha256, 1.0 nbody, 1.5 pingpong, 2.0 gcchurn; hello <= 0.3 s under goemu.
# The det column is `goemu run --deterministic` (seed 0), det/goemu its ratio to the normal run (target <= 1.3).
# overhead: goemu's own cost over bare Unicorn running the same code (bench/bare/: loop.c under bare.c),
# target <= 15% without start-up; how it is computed: overhead() in this script.
# A run that fails (non-zero exit, timeout, or stdout different from the reference run's) makes its cell
# FAIL; the log is kept under bench/target/logs/. Output also goes to bench/target/results.txt; progress
# goes to stderr.
set -uo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../scripts/lib.sh"
cd "$GOEMU_HOME"

runs=${BENCH_RUNS:-3}
timeout_s=${BENCH_TIMEOUT:-1200}
while getopts "n:t:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "bench.sh: -n wants a positive number, got '$runs'"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(hello sha256:4,200 nbody:8000000 pingpong:503,4000000 gcchurn:3 overhead)

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
  [ "$p" = overhead ] && continue
  [ -f "testdata/go/$p/main.go" ] || die "bench.sh: no program testdata/go/$p"
  programs+=("./$p")
done
if [ ${#programs[@]} -gt 0 ]; then
  (cd testdata/go && env -u GOROOT -u GOFLAGS CGO_ENABLED=0 GOTOOLCHAIN=local go build -o "$out/bin/" "${programs[@]}") \
    || die "bench.sh: go build failed"
fi
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
    echo "stdout differs from the reference run's ($ref)" >>"$log.stderr"
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
    echo -n "bench: $name / $engine: run $i of $runs ... " >&2
    if ! t=$(time_once "$out/logs/$name.$engine.$i" "$@"); then
      echo FAIL >&2
      echo "FAIL: $name / $engine: $(head -n 1 "$out/logs/$name.$engine.$i.stderr" | cut -c1-120); see $out/logs/$name.$engine.$i.stderr" >>"$out/logs/failures"
      echo FAIL
      return
    fi
    echo "$t s" >&2
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | median
}

# median: the median of the numbers on stdin, one a line.
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# calc EXPR VAR=VALUE...: EXPR evaluated by awk, or "-" when a value is FAIL or n/a.
calc() {
  local expr=$1 v
  shift
  for v in "$@"; do case ${v#*=} in FAIL | n/a | -) echo "-"; return ;; esac; done
  awk "${@/#/-v}" "BEGIN { print ($expr) }" </dev/null
}

# The speed issue's target for each program: "qemu LIMIT" (goemu/qemu at most LIMIT) or "wall LIMIT"
# (goemu's wall time at most LIMIT seconds).
target_of() {
  case $1 in
    hello) echo "wall 0.3" ;;
    sha256) echo "qemu 0.5" ;;
    nbody) echo "qemu 1.0" ;;
    pingpong) echo "qemu 1.5" ;;
    gcchurn) echo "qemu 2.0" ;;
  esac
}

row_format='%-22s %9s %9s %9s %12s %10s   %-14s %-4s %9s %9s\n'

# bench_program PROGRAM ARGS...: one row of the table.
bench_program() {
  local p=$1 bin=$out/bin/$1 native qemu goemu det kind limit value target met=-
  shift
  ref=""
  native=$(median_of "$p" native "$bin" "$@")
  [ "$native" != FAIL ] && ref=$out/logs/$p.native.1.stdout
  if [ "$have_qemu" = 1 ]; then qemu=$(median_of "$p" qemu qemu-x86_64 "$bin" "$@"); else qemu=n/a; fi
  goemu=$(median_of "$p" goemu ./goemu run -- "$bin" "$@")
  det=$(median_of "$p" det ./goemu run --deterministic -- "$bin" "$@")
  read -r kind limit <<<"$(target_of "$p")"
  case $kind in
    qemu) value=$(calc "g / q" g="$goemu" q="$qemu"); target="<= ${limit}x qemu" ;;
    wall) value=$goemu; target="<= $limit s" ;;
    *) value=-; target=- ;;
  esac
  [ "$value" != - ] && [ "$target" != - ] && met=$(calc "v <= l ? \"yes\" : \"no\"" v="$value" l="$limit")
  printf "$row_format" "$p${*:+ $*}" "$native" "$qemu" "$goemu" \
    "$(calc 'sprintf("%.1fx", g / n)' g="$goemu" n="$native")" "$(calc 'sprintf("%.2fx", g / q)' g="$goemu" q="$qemu")" \
    "$target" "$met" "$det" "$(calc 'sprintf("%.2fx", d / g)' d="$det" g="$goemu")"
}

# overhead [ITERATIONS]: goemu's own overhead over bare Unicorn, as lines added to extra[].
# bench/bare/loop.c, a static program without libc (a loop of ALU work, loads and stores, then write and
# exit_group), runs under goemu and under bench/bare/bare.c, which loads the same ELF into the same libunicorn
# with nothing but a syscall hook. Both are also timed on an empty run (0 iterations: process, JVM and engine
# start-up, loading, exit). Each round runs all four, so that load drifting on a shared machine hits them
# alike; the figures are medians over the rounds of
#   with start-up:    goemu / bare - 1
#   without start-up: (goemu - goemu empty) / (bare - bare empty) - 1   (the issue's target: <= 15%)
overhead() {
  local n=${1:-20000000} i b g b0 g0 rounds=() with ratio without
  ensure_gcc
  ensure_unicorn
  gcc -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 -o "$out/bin/loop" bench/bare/loop.c &&
    gcc -O2 -o "$out/bin/bare" bench/bare/bare.c "$GOEMU_UNICORN_LIB" -Wl,-rpath,"$(dirname "$GOEMU_UNICORN_LIB")" ||
    die "bench.sh: building bench/bare failed"
  for ((i = 1; i <= runs; i++)); do
    ref=""
    b=$(runs=1 median_of "overhead$i" bare "$out/bin/bare" "$out/bin/loop" "$n")
    [ "$b" != FAIL ] && ref=$out/logs/overhead$i.bare.1.stdout
    g=$(runs=1 median_of "overhead$i" goemu ./goemu run -- "$out/bin/loop" "$n")
    ref=""
    b0=$(runs=1 median_of "overhead$i" bare-empty "$out/bin/bare" "$out/bin/loop" 0)
    g0=$(runs=1 median_of "overhead$i" goemu-empty ./goemu run -- "$out/bin/loop" 0)
    case "$b $g $b0 $g0" in *FAIL*) ;; *) rounds+=("$b $g $b0 $g0") ;; esac
  done
  if [ ${#rounds[@]} = 0 ]; then
    extra+=("overhead: FAIL")
    return
  fi
  with=$(calc 'sprintf("%+.0f%%", 100 * (r - 1))' r="$(over_rounds '$2 / $1')")
  ratio=$(over_rounds '($2 - $4) / ($1 - $3)')
  without=$(calc 'sprintf("%+.0f%%", 100 * (r - 1))' r="$ratio")
  extra+=("overhead: loop $n: bare Unicorn $(over_rounds '$1') s, goemu $(over_rounds '$2') s;"\
" empty run (loop 0): bare $(over_rounds '$3') s, goemu $(over_rounds '$4') s")
  extra+=("goemu's own overhead over bare Unicorn: $with with start-up, $without without"\
" (target <= 15%: $(calc 'r <= 1.15 ? "yes" : "no"' r="$ratio"))")
}

# over_rounds EXPR: the median over overhead()'s rounds of EXPR, an awk expression of $1 bare, $2 goemu,
# $3 bare empty, $4 goemu empty.
over_rounds() {
  printf '%s\n' "${rounds[@]}" | awk "{ print $1 }" | median
}

rows=()
extra=()
for s in "${specs[@]}"; do
  p=${s%%:*}
  args=()
  [ "$s" != "$p" ] && IFS=, read -r -a args <<<"${s#*:}"
  if [ "$p" = overhead ]; then
    overhead "${args[@]}"
  else
    rows+=("$(bench_program "$p" "${args[@]}")")
  fi
done

{
  echo "goemu benchmark: median wall time in seconds of $runs run(s); programs built with $gover"
  echo "$(uname -m), $(nproc) CPUs, $([ "$have_qemu" = 1 ] && qemu-x86_64 --version | head -1 || echo "no qemu-x86_64")"
  if [ ${#rows[@]} -gt 0 ]; then
    printf "$row_format" program native qemu goemu goemu/native goemu/qemu target met det det/goemu
    printf '%s\n' "${rows[@]}"
  fi
  [ ${#extra[@]} -gt 0 ] && printf '%s\n' "${extra[@]}"
  cat "$out/logs/failures"
} | tee "$out/results.txt"
