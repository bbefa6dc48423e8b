#!/usr/bin/env bash
# Can several Unicorn engines, one per host thread, run guest threads in parallel over shared guest memory?
# Builds bench/multicore/mcbench.c against the engine goemu uses (ensure_unicorn) and runs its tests; the
# findings are in docs/ARCHITECTURE.md, "More than one core (measured, not built)". Not part of goemu's build
# or tests. Takes a few minutes; timings on a shared machine are noisy (the tests print CPU and wall time).
#
# Usage: bench/multicore/run.sh [--parallel-engine] [--quick] [TEST...]
#   TEST: atomic litmus stop smc shootdown maps open scale unmapped (default: all)
#   --parallel-engine  also build Unicorn 2.1.4 from its PyPI sdist with goemu's engine patch (if the checkout
#                      has one) plus unicorn-parallel.patch (about a minute, cached under target/), and run the
#                      tests that depend on CF_PARALLEL with UC_PARALLEL=0 and 1
#   --quick            smaller iteration counts
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
source "$here/../../scripts/lib.sh"
cd "$GOEMU_HOME"

parallel=0 quick=0 tests=()
for a in "$@"; do
  case $a in
    --parallel-engine) parallel=1 ;;
    --quick) quick=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) die "multicore/run.sh: unknown option $a" ;;
    *) tests+=("$a") ;;
  esac
done
[ ${#tests[@]} -gt 0 ] || tests=(atomic litmus stop smc shootdown maps open scale unmapped)

ensure_unicorn
ensure_gcc
out=$here/target
mkdir -p "$out"
gcc -O2 -Wall -pthread -o "$out/mcbench" "$here/mcbench.c" -ldl || die "multicore/run.sh: building mcbench failed"

if [ $quick = 1 ]; then n_atomic=1000000 n_litmus=50000 n_stop=500000 n_scale=100000000 n_xadd=20000000
else n_atomic=10000000 n_litmus=200000 n_stop=2000000 n_scale=600000000 n_xadd=100000000; fi

# build_parallel_engine: Unicorn from the sdist + goemu's engine patch (if any) + unicorn-parallel.patch.
build_parallel_engine() {
  local goemu_patch patches hash dir tmp
  goemu_patch=$(ls "$GOEMU_HOME"/emulator/src/main/unicorn/unicorn-"$GOEMU_UNICORN_VERSION"-goemu.patch 2>/dev/null)
  patches=("$here/unicorn-parallel.patch")
  [ -n "$goemu_patch" ] && patches=("$goemu_patch" "${patches[@]}")
  hash=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
  dir=$out/unicorn-parallel-$hash
  if [ ! -f "$dir/libunicorn.so.2" ]; then
    echo "multicore: building Unicorn $GOEMU_UNICORN_VERSION with ${patches[*]##*/} into $dir (about a minute)" >&2
    command -v cmake >/dev/null || apt_install cmake
    command -v patch >/dev/null || apt_install patch
    tmp=$(mktemp -d)
    { python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
          "unicorn==$GOEMU_UNICORN_VERSION" -d "$tmp" \
      && tar -xzf "$tmp/unicorn-$GOEMU_UNICORN_VERSION.tar.gz" -C "$tmp" \
      && for p in "${patches[@]}"; do patch -p1 -d "$tmp/unicorn-$GOEMU_UNICORN_VERSION/src" <"$p" || exit 1; done \
      && cmake -S "$tmp/unicorn-$GOEMU_UNICORN_VERSION/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release \
           -DUNICORN_ARCH=x86 -DUNICORN_BUILD_TESTS=OFF \
      && cmake --build "$tmp/build" --target unicorn -j "$(nproc)"; } >"$tmp.log" 2>&1 \
      || { tail -n 20 "$tmp.log" >&2; die "multicore/run.sh: building the parallel engine failed (log: $tmp.log)"; }
    mkdir -p "$dir" && cp -L "$tmp/build/libunicorn.so.2" "$dir/" && rm -rf "$tmp" "$tmp.log"
  fi
  echo "$dir/libunicorn.so.2"
}

mc() { "$out/mcbench" "$@"; }
lib=$GOEMU_UNICORN_LIB
echo "multicore: goemu's engine is $lib"
if [ $parallel = 1 ]; then
  plib=$(build_parallel_engine) || exit 1
  echo "multicore: parallel engine is $plib"
fi

for t in "${tests[@]}"; do
  echo
  case $t in
    atomic)
      mc --native atomic -n $n_atomic
      mc --lib "$lib" atomic -n $n_atomic --limit 30
      [ $parallel = 1 ] && UC_PARALLEL=1 mc --lib "$plib" atomic -n $n_atomic --limit 30 | sed '1s/$/, UC_PARALLEL=1/' ;;
    litmus)
      mc --native litmus -n $n_litmus
      mc --lib "$lib" litmus -n $n_litmus
      [ $parallel = 1 ] && UC_PARALLEL=1 mc --lib "$plib" litmus -n $n_litmus | sed '1s/$/, UC_PARALLEL=1/' ;;
    stop)
      mc --lib "$lib" stop -n $n_stop
      mc --lib "$lib" stop -n $n_stop --interrupt 2>/dev/null || true ;;
    smc) mc --lib "$lib" smc ;;
    shootdown) mc --lib "$lib" shootdown ;;
    maps) for r in 0 32 128; do mc --lib "$lib" maps -r $r; done ;;
    open) mc --lib "$lib" open -t 4 -n 100 ;;
    scale)
      for k in alu store; do
        mc --lib "$lib" scale -t 1 -k $k -n $n_scale
        mc --lib "$lib" scale -t 2 -k $k -n $n_scale
      done
      if [ $parallel = 1 ]; then
        for k in alu store; do UC_PARALLEL=1 mc --lib "$plib" scale -t 1 -k $k -n $n_scale | sed 's/$/ (UC_PARALLEL=1)/'; done
        for p in 0 1; do UC_PARALLEL=$p mc --lib "$plib" scale -t 1 -k xadd -n $n_xadd | sed "s/\$/ (UC_PARALLEL=$p)/"; done
        UC_PARALLEL=1 mc --lib "$plib" scale -t 2 -k xadd -n $n_xadd | sed 's/$/ (UC_PARALLEL=1)/'
        UC_PARALLEL=1 mc --lib "$plib" scale -t 2 -k xadd-shared -n $((n_xadd / 4)) | sed 's/$/ (UC_PARALLEL=1)/'
      fi ;;
    unmapped)
      mc --lib "$lib" unmapped
      [ $parallel = 1 ] && UC_PARALLEL=1 mc --lib "$plib" unmapped | sed '1s/$/, UC_PARALLEL=1/' ;;
    *) die "multicore/run.sh: unknown test $t" ;;
  esac
done
