# Shared by build.sh, test.sh, goemu and .ci/run: locate (or install) what goemu needs.
# Sourced, not executed. Everything it installs goes under $GOEMU_HOME/.deps or the system package manager.

GOEMU_HOME=${GOEMU_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
GOEMU_UNICORN_VERSION=2.1.4

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

# Exports GOEMU_UNICORN_LIB: the caller's value if set, else the libunicorn.so.2 of the unicorn wheel under .deps.
ensure_unicorn() {
  if [ -n "${GOEMU_UNICORN_LIB:-}" ]; then
    [ -f "$GOEMU_UNICORN_LIB" ] || die "GOEMU_UNICORN_LIB=$GOEMU_UNICORN_LIB does not exist"
    export GOEMU_UNICORN_LIB; return
  fi
  local dir="$GOEMU_HOME/.deps/unicorn-$GOEMU_UNICORN_VERSION"
  local lib="$dir/unicorn/lib/libunicorn.so.2"
  if [ ! -f "$lib" ]; then
    echo "goemu: installing Unicorn $GOEMU_UNICORN_VERSION (PyPI wheel) into $dir" >&2
    command -v python3 >/dev/null || die "python3 is needed to fetch the unicorn wheel"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$dir" "unicorn==$GOEMU_UNICORN_VERSION" >&2 \
      || die "could not install the unicorn wheel; set GOEMU_UNICORN_LIB to a libunicorn.so.2 (>= 2.1)"
  fi
  export GOEMU_UNICORN_LIB=$lib
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
