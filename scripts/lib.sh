# Shared by build.sh, test.sh, goemu and .ci/run: locate (or install) what goemu needs.
# Sourced, not executed. Everything it installs goes under $GOEMU_HOME/.deps or the system package manager.

GOEMU_HOME=${GOEMU_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
GOEMU_UNICORN_VERSION=2.1.4
GOEMU_UNICORN_SDIST_SHA256=00567a70e323f749b419cd86bee4f9115beab7ebba32194581c090cbb7c59cff
GOEMU_CAPSTONE_VERSION=5.0.3

# What build.sh found for ./goemu (JAVA_HOME, GOEMU_UNICORN_LIB, GOEMU_CAPSTONE_LIB, one a line), so that a run need
# not look again, and the JDK's AOT cache it made from a training run (JDK 25 and newer).
GOEMU_JAR=$GOEMU_HOME/emulator/target/goemu.jar
GOEMU_FOUND=$GOEMU_HOME/emulator/target/found.txt
GOEMU_AOT_CACHE=$GOEMU_HOME/emulator/target/goemu.aot

die() { echo "goemu: $*" >&2; exit 1; }

# Java major version of a JDK home, or 0.
jdk_major() {
  local rel="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ -f "$rel" ] || { echo 0; return; }
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  echo "${v:-0}"
}

# Exports JAVA_HOME as a JDK >= 22 (FFM is final from 22): $JAVA_HOME if suitable, else the newest under /usr/lib/jvm.
select_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ "$(jdk_major "$JAVA_HOME")" -ge 22 ]; then export JAVA_HOME; return; fi
  local best="" best_v=0 d v
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -d "$d" ] || continue
    v=$(jdk_major "$d")
    if [ "$v" -ge 22 ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
  done
  [ -n "$best" ] || die "no JDK 22 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm); install one or set JAVA_HOME"
  export JAVA_HOME=$best
}

# ensure_wheel_lib VAR NAME VERSION FILE WANTED: exports VAR as the caller's value if set (it must exist), else as
# FILE inside the pinned PyPI wheel NAME==VERSION, pip-installed under .deps/NAME-VERSION on first use. Native
# libraries come as wheels because PyPI has prebuilt, self-contained .so files for both engines goemu binds.
ensure_wheel_lib() {
  local var=$1 name=$2 version=$3 file=$4 wanted=$5
  if [ -n "${!var:-}" ]; then
    [ -f "${!var}" ] || die "$var=${!var} does not exist"
    export "$var"; return
  fi
  local dir="$GOEMU_HOME/.deps/$name-$version"
  if [ ! -f "$dir/$file" ]; then
    echo "goemu: installing $name $version (PyPI wheel) into $dir" >&2
    command -v python3 >/dev/null || die "python3 is needed to fetch the $name wheel"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$dir" "$name==$version" >&2 \
      || die "could not install the $name wheel; set $var to a ${file##*/} ($wanted)"
  fi
  export "$var=$dir/$file"
}

# Exports GOEMU_UNICORN_LIB, the CPU emulator: the caller's if set (goemu refuses one without its engine patch), else
# goemu's own engine: Unicorn built for x86 only from the pinned PyPI source distribution with
# emulator/src/main/unicorn/*.patch applied (docs/ARCHITECTURE.md, "The engine"), into .deps/ on first use. The
# directory is named after the hash of the patch and the build's options, so a change to either builds a new engine.
ensure_unicorn() {
  if [ -n "${GOEMU_UNICORN_LIB:-}" ]; then
    [ -f "$GOEMU_UNICORN_LIB" ] || die "GOEMU_UNICORN_LIB=$GOEMU_UNICORN_LIB does not exist"
    export GOEMU_UNICORN_LIB; return
  fi
  local patch=$GOEMU_HOME/emulator/src/main/unicorn/unicorn-$GOEMU_UNICORN_VERSION-goemu.patch lib
  lib=$(goemu_engine_lib) || die "cannot read $patch"
  [ -f "$lib" ] || _build_unicorn "$patch" "$(dirname "$lib")"
  export GOEMU_UNICORN_LIB=$lib
}

# CMake options of goemu's engine. -Bsymbolic-functions: calls inside the library (a helper to softfloat) go straight
# to the function instead of through the PLT, as in qemu-user's executable (about 4% of a float-heavy program).
GOEMU_UNICORN_CMAKE_OPTIONS=(-DCMAKE_BUILD_TYPE=Release -DUNICORN_ARCH=x86 -DUNICORN_BUILD_TESTS=OFF
  -DCMAKE_SHARED_LINKER_FLAGS=-Wl,-Bsymbolic-functions)

# Prints where goemu's engine for the current patch and options is (or will be) built.
goemu_engine_lib() {
  local hash
  hash=$({ cat "$GOEMU_HOME/emulator/src/main/unicorn/unicorn-$GOEMU_UNICORN_VERSION-goemu.patch"     && echo "${GOEMU_UNICORN_CMAKE_OPTIONS[*]}"; } | sha256sum | cut -c1-12) || return 1
  echo "$GOEMU_HOME/.deps/unicorn-$GOEMU_UNICORN_VERSION-goemu-$hash/libunicorn.so.2"
}

# _build_unicorn PATCH DIR: the sdist, checked against its pinned hash, patched and built in a scratch directory,
# then moved into place whole, so an interrupted build leaves nothing that looks finished.
_build_unicorn() {
  local patch=$1 dir=$2 tmp log
  command -v python3 >/dev/null || apt_install python3 python3-pip
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  command -v cmake >/dev/null || apt_install cmake
  command -v make >/dev/null || apt_install make
  command -v patch >/dev/null || apt_install patch
  ensure_gcc
  echo "goemu: building goemu's Unicorn $GOEMU_UNICORN_VERSION engine (PyPI source + $(basename "$patch")) into $dir; a minute or two" >&2
  mkdir -p "$GOEMU_HOME/.deps" && tmp=$(mktemp -d "$GOEMU_HOME/.deps/unicorn-build.XXXXXX") \
    || die "cannot create a build directory under $GOEMU_HOME/.deps"
  log=$tmp/build.log
  echo "unicorn==$GOEMU_UNICORN_VERSION --hash=sha256:$GOEMU_UNICORN_SDIST_SHA256" >"$tmp/requirements.txt"
  if ! { python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
           -r "$tmp/requirements.txt" -d "$tmp" \
         && tar -xzf "$tmp/unicorn-$GOEMU_UNICORN_VERSION.tar.gz" -C "$tmp" \
         && patch -p1 -d "$tmp/unicorn-$GOEMU_UNICORN_VERSION/src" <"$patch" \
         && cmake -S "$tmp/unicorn-$GOEMU_UNICORN_VERSION/src" -B "$tmp/build" "${GOEMU_UNICORN_CMAKE_OPTIONS[@]}" \
         && cmake --build "$tmp/build" --target unicorn -j "$(nproc)"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "building Unicorn failed; the whole log is in $log"
  fi
  mkdir -p "$dir.new" && cp -L "$tmp/build/libunicorn.so.2" "$dir.new/" && rm -rf "$dir" && mv "$dir.new" "$dir" \
    || die "cannot install the engine into $dir"
  rm -rf "$tmp"
}

# Exports GOEMU_CAPSTONE_LIB, the x86-64 disassembler.
ensure_capstone() {
  ensure_wheel_lib GOEMU_CAPSTONE_LIB capstone "$GOEMU_CAPSTONE_VERSION" capstone/lib/libcapstone.so "5.x"
}

# Prints JAVA_HOME, GOEMU_UNICORN_LIB and GOEMU_CAPSTONE_LIB (empty without Capstone: only the debugger's disas and
# nexti need it, and they say so), one a line. In a subshell: nothing is exported to the caller.
find_runtime() {
  (select_jdk && ensure_unicorn \
    && printf '%s\n' "$JAVA_HOME" "$GOEMU_UNICORN_LIB" "$( (ensure_capstone && printf %s "$GOEMU_CAPSTONE_LIB") 2>/dev/null || true)")
}

# goemu_java JAVA_HOME UNICORN_LIB CAPSTONE_LIB: sets goemu_java_cmd to the command that runs goemu's CLI. The AOT
# cache is made and used with these same JVM options (it is refused under others). C1 only, and it compiles a method
# after 10x the usual calls: most of a short run's Java runs once (linking the native calls), and compiling it cost
# more than interpreting it (docs/ARCHITECTURE.md, "Start-up").
goemu_java() {
  goemu_java_cmd=("$1/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -XX:CompileThresholdScaling=10
    -Dgoemu.unicorn.lib="$2" -Dgoemu.capstone.lib="$3" -Dgoemu.hooks.lib="$GOEMU_HOME/emulator/target/native/libgoemu_hooks.so"
    -jar "$GOEMU_JAR")
}

# Records what build.sh found for ./goemu and makes the AOT cache (JEP 483/514/515: classes loaded and linked, method
# profiles) from a training run of a small Go program; with a JDK older than 25 there is no cache, and no harm.
prepare_launch() {
  printf '%s\n' "$JAVA_HOME" "$GOEMU_UNICORN_LIB" "${GOEMU_CAPSTONE_LIB:-}" >"$GOEMU_FOUND"
  rm -f "$GOEMU_AOT_CACHE"
  [ "$(jdk_major "$JAVA_HOME")" -ge 25 ] || return 0
  local train=$GOEMU_HOME/emulator/target/aot-training log=$GOEMU_AOT_CACHE.log
  (cd "$GOEMU_HOME/testdata/go" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -o "$train" ./goroutines) \
    || die "go build of the AOT training program failed"
  goemu_java "$JAVA_HOME" "$GOEMU_UNICORN_LIB" "${GOEMU_CAPSTONE_LIB:-}"
  # Written aside and renamed, so that a goemu starting meanwhile never maps half a cache.
  if "${goemu_java_cmd[0]}" -XX:AOTCacheOutput="$GOEMU_AOT_CACHE.new" "${goemu_java_cmd[@]:1}" run "$train" >"$log" 2>&1 </dev/null; then
    mv "$GOEMU_AOT_CACHE.new" "$GOEMU_AOT_CACHE"
  else
    echo "goemu: warning: no AOT cache (start-up about 0.2 s slower); see $log" >&2
    rm -f "$GOEMU_AOT_CACHE.new"
  fi
}

ensure_gcc() {
  command -v gcc >/dev/null && return
  apt_install gcc
}

apt_install() {
  [ "$(id -u)" = 0 ] || die "missing $*; install it (apt-get install $*) and retry"
  echo "goemu: installing $* with apt-get" >&2
  if [ -z "${GOEMU_APT_UPDATED:-}" ]; then apt-get update -qq >&2 || true; export GOEMU_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 || die "apt-get install $* failed"
}

mvn_goemu() {
  command -v mvn >/dev/null || apt_install maven
  # Maven 3.8's bundled Guava uses sun.misc.Unsafe, which JDK 24+ warns about on every run.
  if [ "$(jdk_major "$JAVA_HOME")" -ge 24 ]; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  fi
  mvn -B -q "$@"
}
