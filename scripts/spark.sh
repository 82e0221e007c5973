#!/usr/bin/env bash
# Java for the local Spark session (dbt-spark's `session` method runs pyspark,
# which starts a JVM; Spark 4 needs Java 17 or newer).
#
#   scripts/spark.sh java    install Debian's openjdk-17-jre-headless with
#                            apt-get when no `java` 17+ is on PATH; print
#                            `export JAVA_HOME=...` (eval-able)
#
# pyspark and dbt-spark come from the project's `spark` extra
# (pip install -e ".[spark]"; `make install` does it).
set -euo pipefail

log() { echo "spark.sh: $*" >&2; }

java_major() {
    # "openjdk version "17.0.15" ..." -> 17 ; "1.8.0_x" -> 1
    java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'
}

ensure_java() {
    if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
        return
    fi
    log "installing Debian's openjdk-17-jre-headless (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # the JRE's post-install step expects the man directory
    mkdir -p /usr/share/man/man1
    apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >&2
    if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
        log "java 17+ is still not on PATH after the install"
        exit 1
    fi
}

case "${1:-java}" in
    java)
        ensure_java
        java_bin=$(readlink -f "$(command -v java)")
        echo "export JAVA_HOME=$(dirname "$(dirname "$java_bin")")"
        ;;
    *)
        echo "usage: scripts/spark.sh java" >&2
        exit 2
        ;;
esac
