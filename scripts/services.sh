#!/usr/bin/env bash
# scripts/services.sh — real Kafka, NATS (JetStream) and InfluxDB for the
# integration tests and CI, without Docker, on 127.0.0.1 only.
#
# Usage:
#   scripts/services.sh up     [kafka] [nats] [influxdb]   install what is missing, start, wait until ready
#   scripts/services.sh down   [kafka] [nats] [influxdb]   stop (TERM, then KILL after a timeout)
#   scripts/services.sh status [kafka] [nats] [influxdb]   running/stopped + address; exit 0 only if all running
#   scripts/services.sh start-one NAME | stop-one NAME      same as `up NAME` / `down NAME`
#   scripts/services.sh env                                 print connection settings as KEY=VALUE lines
#   scripts/services.sh logs   [NAME...]                    print the tail of the services' logs
#   scripts/services.sh install [NAME...]                   only install/build (e.g. to warm a cache)
#
# Without service names a command applies to all three.
#
# Data lifetime (important for tests that restart a service):
#   * `up` starts on a FRESH data dir (mktemp under the run dir) only when the run dir
#     has no current state, i.e. after `down` without arguments, on the very first run,
#     or when the previous state is stale (no service alive and none stopped on purpose).
#   * `down` WITHOUT arguments stops everything and deletes all data.
#   * `down NAME...` (or `stop-one NAME`) only stops those processes and KEEPS their data;
#     a later `up NAME` (or `start-one NAME`) restarts them on the same data.
#     E.g. `down influxdb; sleep 20; up influxdb` keeps every point written before.
#   * `up` is idempotent: a service whose port already answers is left alone (it is
#     only waited for until ready).
#
# Services (versions and default addresses):
#   kafka     Apache Kafka 3.9.1 (KAFKA_VERSION), KRaft single node (broker+controller),
#             PLAINTEXT 127.0.0.1:9092, controller 127.0.0.1:9093, auto.create.topics.enable=true,
#             num.partitions=3. Jars from Maven Central (scripts/services/kafka-pom.xml +
#             mvn dependency:copy-dependencies), run with the machine's java.
#   nats      nats-server from Debian's package (2.9.x), JetStream on,
#             client nats://127.0.0.1:4222, monitoring http://127.0.0.1:8222.
#   influxdb  InfluxDB OSS 1.8.10 built once with `go install` (see install_influxdb),
#             HTTP http://127.0.0.1:8086 (Flux on, auth off), RPC 127.0.0.1:8088.
#             `up` creates database "huitian" (retention policy autogen), so the
#             v2-compatible API serves bucket "huitian/autogen" (token "" or "user:pass", any org).
#
# Environment:
#   HUITIAN_SERVICES_DIR   run dir: data, pid files, logs        (default /tmp/huitian-services)
#   XDG_CACHE_HOME         cache root; downloads/builds go to $XDG_CACHE_HOME/huitian-services
#                          (default ~/.cache/huitian-services); Maven keeps its ~/.m2
#   KAFKA_PORT KAFKA_CONTROLLER_PORT NATS_PORT NATS_MONITOR_PORT INFLUX_PORT INFLUX_RPC_PORT
#   KAFKA_VERSION (3.9.1)  KAFKA_HEAP_OPTS ("-Xms128m -Xmx512m")  INFLUX_DB (huitian)
#   SERVICES_READY_TIMEOUT seconds to wait for each service to become ready (default 120)
#   SERVICES_STOP_TIMEOUT  seconds between TERM and KILL on stop (default 20)
#
# Works non-interactively (CI=true, no stdin, no TTY). Progress lines go to stderr.
# Needs root (or sudo) only on the first run of a machine, for apt-get.

set -euo pipefail

# ---------------------------------------------------------------- settings --
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL_SERVICES=(kafka nats influxdb)

HOST=127.0.0.1
KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
NATS_PORT="${NATS_PORT:-4222}"
NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}"
INFLUX_VERSION="1.8.10"
INFLUX_PORT="${INFLUX_PORT:-8086}"
INFLUX_RPC_PORT="${INFLUX_RPC_PORT:-8088}"
INFLUX_DB="${INFLUX_DB:-huitian}"
READY_TIMEOUT="${SERVICES_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${SERVICES_STOP_TIMEOUT:-20}"

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/huitian-services"
RUN_DIR="${HUITIAN_SERVICES_DIR:-/tmp/huitian-services}"

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"      # jars/ inside
INFLUXD_BIN="$CACHE_DIR/influxdb-$INFLUX_VERSION/bin/influxd"

# Short-lived Kafka CLI tools (storage format, readiness probe): quick JVM start.
JAVA_TOOL_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true)

# ----------------------------------------------------------------- helpers --
log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; }

now() { date +%s; }

# true if something accepts TCP connections on 127.0.0.1:$1
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# true if pid $1 is alive (a zombie counts as dead)
pid_alive() {
  local pid="$1" state
  [[ -n "$pid" && -e "/proc/$pid" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

svc_pattern() {
  case "$1" in
    kafka) echo 'kafka.Kafka' ;;
    nats) echo 'nats-server' ;;
    influxdb) echo 'influxd' ;;
  esac
}

svc_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    nats) echo "$NATS_PORT" ;;
    influxdb) echo "$INFLUX_PORT" ;;
  esac
}

svc_address() {
  case "$1" in
    kafka) echo "$HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)" ;;
    nats) echo "nats://$HOST:$NATS_PORT (monitor http://$HOST:$NATS_MONITOR_PORT)" ;;
    influxdb) echo "http://$HOST:$INFLUX_PORT (bucket $INFLUX_DB/autogen)" ;;
  esac
}

pid_file() { echo "$RUN_DIR/pids/$1.pid"; }
stopped_marker() { echo "$RUN_DIR/pids/$1.stopped"; }
log_file() { echo "$RUN_DIR/logs/$1.log"; }

# pid of our process for service $1, if it is alive and really is that service
svc_pid() {
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(svc_pattern "$1")" || return 1
  echo "$pid"
}

tail_log() {
  local f
  f="$(log_file "$1")"
  if [[ -s "$f" ]]; then
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n "${2:-40}" "$f" >&2
    printf -- '-----\n' >&2
  fi
}

validate_services() {
  local s ok
  for s in "$@"; do
    ok=0
    for a in "${ALL_SERVICES[@]}"; do [[ "$s" == "$a" ]] && ok=1; done
    ((ok)) || die "unknown service '$s' (known: ${ALL_SERVICES[*]})"
  done
}

# Serialize up/down of concurrent callers. fd 9 is closed for the daemons we start.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  if ! flock -w 1800 9; then die "timed out waiting for the lock $RUN_DIR/.lock"; fi
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"; fi
}

# ----------------------------------------------------------- installation --
nats_bin() {
  if command -v nats-server >/dev/null 2>&1; then command -v nats-server
  elif [[ -x /usr/sbin/nats-server ]]; then echo /usr/sbin/nats-server
  else return 1; fi
}

go_bin() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else return 1; fi
}

kafka_installed() { [[ -f "$KAFKA_HOME/.complete" ]]; }
influx_installed() { [[ -x "$INFLUXD_BIN" ]]; }

# Debian packages needed by the requested services that are missing; one apt run.
install_apt_packages() {
  local pkgs=() s
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  command -v flock >/dev/null 2>&1 || pkgs+=(util-linux)
  for s in "$@"; do
    case "$s" in
      nats) nats_bin >/dev/null || pkgs+=(nats-server) ;;
      kafka)
        if ! kafka_installed; then command -v mvn >/dev/null 2>&1 || pkgs+=(maven); fi
        command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless) ;;
      influxdb)
        if ! influx_installed; then go_bin >/dev/null || pkgs+=(golang-go); fi ;;
    esac
  done
  ((${#pkgs[@]})) || return 0
  log "apt-get install ${pkgs[*]} ..."
  mkdir -p "$CACHE_DIR/logs"
  local alog="$CACHE_DIR/logs/apt.log"
  # policy-rc.d style: never let the package start its own system service.
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}"; } \
       </dev/null >"$alog" 2>&1; then
    tail -n 30 "$alog" >&2
    die "apt-get install ${pkgs[*]} failed (full log: $alog)"
  fi
  # Debian's nats-server ships a systemd unit; on machines with systemd make sure that
  # instance does not take port 4222 from us.
  if [[ " ${pkgs[*]} " == *" nats-server "* ]] && command -v systemctl >/dev/null 2>&1 &&
     [[ -d /run/systemd/system ]]; then
    as_root systemctl disable --now nats-server >/dev/null 2>&1 || true
  fi
}

install_kafka() {
  # Kafka's broker (kafka.Kafka), StorageTool and BrokerApiVersionsCommand live in
  # kafka_2.13; copy-dependencies pulls kafka-server, -storage, -metadata, -raft,
  # -clients, scala-library ... transitively (see scripts/services/kafka-pom.xml).
  local tmp="$KAFKA_HOME.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mvn -B -q -Dstyle.color=never -f "$SCRIPT_DIR/services/kafka-pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime \
    dependency:copy-dependencies -DoutputDirectory="$tmp/jars" </dev/null
  [[ -f "$tmp/jars/kafka_2.13-$KAFKA_VERSION.jar" ]] || { echo "kafka_2.13-$KAFKA_VERSION.jar missing" >&2; return 1; }
  touch "$tmp/.complete"
  rm -rf "$KAFKA_HOME"
  mv "$tmp" "$KAFKA_HOME"
}

# InfluxDB build approach (chosen after trying it): a plain
#   go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10
# with the machine's own Go (1.26.x) and GOTOOLCHAIN=local. Its 2020-era
# golang.org/x/sys etc. still compile on Go 1.26 and the binary runs fine, so neither
# an older toolchain via GOTOOLCHAIN (only newer ones are approved here) nor a wrapper
# module that bumps golang.org/x/sys is needed. Should a future Go break the old
# deps, the fallback is such a wrapper module (generated in $CACHE_DIR) that requires
# influxdb v1.8.10 plus a newer golang.org/x/sys and builds .../cmd/influxd.
# CGO_ENABLED=0 keeps it pure Go (no C compiler needed), -s -w makes the link faster
# and the binary smaller, -X sets the version reported by /ping and /health.
# GOMODCACHE/GOCACHE are private and deleted after a successful build (~800 MB):
# only the binary is reused.
install_influxdb() {
  local go gotmp bindir tmpbin
  go="$(go_bin)" || { echo "no go toolchain found" >&2; return 1; }
  gotmp="$CACHE_DIR/go-build-tmp"
  bindir="$(dirname "$INFLUXD_BIN")"
  tmpbin="$bindir.tmp.$$"
  rm -rf "$tmpbin"
  mkdir -p "$tmpbin" "$gotmp"
  echo "using $("$go" version)"
  env GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw GO111MODULE=on \
    GOMODCACHE="$gotmp/mod" GOCACHE="$gotmp/cache" GOPATH="$gotmp/path" GOBIN="$tmpbin" \
    "$go" install -trimpath \
    -ldflags "-s -w -X main.version=$INFLUX_VERSION -X main.branch=1.8 -X main.commit=v$INFLUX_VERSION" \
    "github.com/influxdata/influxdb/cmd/influxd@v$INFLUX_VERSION" </dev/null
  [[ -x "$tmpbin/influxd" ]] || { echo "influxd was not built" >&2; return 1; }
  mkdir -p "$bindir"
  mv -f "$tmpbin/influxd" "$INFLUXD_BIN"
  rm -rf "$tmpbin" "$gotmp"
}

# Install/build whatever the given services lack; the slow parts run in parallel.
install_missing() {
  mkdir -p "$CACHE_DIR/logs"
  install_apt_packages "$@"
  local names=() pids=() s fail=0 i ilog t0
  t0="$(now)"
  for s in "$@"; do
    case "$s" in
      kafka) kafka_installed && continue
        log "kafka: downloading Kafka $KAFKA_VERSION jars from Maven Central (first run only) ..." ;;
      influxdb) influx_installed && continue
        log "influxdb: building influxd $INFLUX_VERSION with go install (first run only, ~1-2 min) ..." ;;
      *) continue ;;
    esac
    ilog="$CACHE_DIR/logs/install-$s.log"
    ( "install_$s" ) >"$ilog" 2>&1 </dev/null &
    names+=("$s")
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    s="${names[$i]}"
    ilog="$CACHE_DIR/logs/install-$s.log"
    if wait "${pids[$i]}"; then
      log "$s: installed ($(($(now) - t0)) s)"
    else
      log "ERROR: installing $s failed; last lines of $ilog:"
      tail -n 40 "$ilog" >&2
      fail=1
    fi
  done
  ((fail == 0)) || die "installation failed"
}

# ------------------------------------------------------------- run state --
DATA_DIR=""

# Is the recorded state worth keeping? Yes if a service of ours is alive or one was
# stopped on purpose with `down NAME` (its data is expected back).
state_in_use() {
  local s
  for s in "${ALL_SERVICES[@]}"; do
    svc_pid "$s" >/dev/null && return 0
    [[ -f "$(stopped_marker "$s")" ]] && return 0
  done
  return 1
}

# Sets DATA_DIR: the current data dir, or a fresh one when there is no usable state.
ensure_data_dir() {
  mkdir -p "$RUN_DIR/pids" "$RUN_DIR/logs"
  local cur=""
  [[ -f "$RUN_DIR/current" ]] && cur="$(cat "$RUN_DIR/current" 2>/dev/null || true)"
  if [[ -n "$cur" && -d "$cur" ]] && state_in_use; then
    DATA_DIR="$cur"
    return
  fi
  if [[ -n "$cur" && -d "$cur" ]]; then
    log "previous state in $cur is stale (no service alive, none stopped on purpose): starting fresh"
    rm -rf -- "$cur"
  fi
  rm -f "$RUN_DIR"/pids/*.pid "$RUN_DIR"/pids/*.stopped
  DATA_DIR="$(mktemp -d "$RUN_DIR/data.XXXXXX")"
  echo "$DATA_DIR" >"$RUN_DIR/current"
  local s
  for s in "${ALL_SERVICES[@]}"; do : >"$(log_file "$s")"; done
  log "fresh data dir $DATA_DIR"
}

# launch NAME CMD...: start CMD detached (own session, no stdin, output to the log
# file, lock fd closed); the process writes its own pid file before exec.
launch() {
  local name="$1"
  shift
  local pidf logf
  pidf="$(pid_file "$name")"
  logf="$(log_file "$name")"
  rm -f "$pidf" "$(stopped_marker "$name")"
  printf '===== %s: starting %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" >>"$logf"
  # shellcheck disable=SC2016 # $$/$0/$@ are expanded by the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$logf" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do
    [[ -s "$pidf" ]] && return 0
    sleep 0.1
  done
  die "$name: process did not start"
}

# ------------------------------------------------------------------ kafka --
kafka_cp() { echo "$KAFKA_HOME/jars/*"; }

kafka_write_config() {
  local d="$1"
  cat >"$d/server.properties" <<EOF
# generated by scripts/services.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=33554432
EOF
  cat >"$d/log4j.properties" <<'EOF'
# generated by scripts/services.sh; stdout goes to the run dir's logs/kafka.log
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
  cat >"$d/log4j-tools.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

kafka_tool() {
  java "${JAVA_TOOL_OPTS[@]}" -Dlog4j.configuration="file:$DATA_DIR/kafka/log4j-tools.properties" \
    -cp "$(kafka_cp)" "$@"
}

start_kafka() {
  local d="$DATA_DIR/kafka"
  mkdir -p "$d/data"
  kafka_write_config "$d"
  if [[ ! -f "$d/data/meta.properties" ]]; then
    local id
    # a random base64url UUID, like `kafka.tools.StorageTool random-uuid` (minus a JVM start)
    while :; do
      id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
      [[ "$id" != -* ]] && break
    done
    if ! kafka_tool kafka.tools.StorageTool format -t "$id" -c "$d/server.properties" \
         >>"$(log_file kafka)" 2>&1 </dev/null; then
      tail_log kafka
      die "kafka: formatting storage failed"
    fi
  fi
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  launch kafka java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$d/log4j.properties" -Dkafka.logs.dir="$d" \
    -cp "$(kafka_cp)" kafka.Kafka "$d/server.properties"
}

# Ready = the broker answers a real Metadata + ApiVersions round trip.
kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  [[ -n "$DATA_DIR" && -f "$DATA_DIR/kafka/log4j-tools.properties" ]] || return 0 # not ours: port answers
  timeout 30 java "${JAVA_TOOL_OPTS[@]}" -Dlog4j.configuration="file:$DATA_DIR/kafka/log4j-tools.properties" \
    -cp "$(kafka_cp)" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "$HOST:$KAFKA_PORT" </dev/null 2>/dev/null | grep -q "Metadata("
}

# ------------------------------------------------------------------- nats --
start_nats() {
  local d="$DATA_DIR/nats" bin
  mkdir -p "$d"
  bin="$(nats_bin)" || die "nats-server not found"
  launch nats "$bin" -a "$HOST" -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" \
    -js -sd "$d" -n huitian-nats
}

nats_ready() {
  curl -fsS -m 2 "http://$HOST:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1
}

# --------------------------------------------------------------- influxdb --
influx_write_config() {
  local d="$1"
  cat >"$d/influxdb.conf" <<EOF
# generated by scripts/services.sh
reporting-disabled = true
bind-address = "$HOST:$INFLUX_RPC_PORT"

[meta]
  dir = "$d/meta"
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  write-timeout = "10s"
  log-queries-after = "0s"

[retention]
  enabled = true
  check-interval = "30m"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[http]
  enabled = true
  bind-address = "$HOST:$INFLUX_PORT"
  auth-enabled = false
  flux-enabled = true
  flux-log-enabled = false
  log-enabled = false
  suppress-write-log = true
  write-tracing = false
  pprof-enabled = false

[logging]
  format = "logfmt"
  level = "info"
  suppress-logo = true
EOF
}

start_influxdb() {
  local d="$DATA_DIR/influxdb"
  mkdir -p "$d"
  influx_write_config "$d"
  launch influxdb "$INFLUXD_BIN" run -config "$d/influxdb.conf"
}

influxdb_ready() {
  curl -fsS -m 2 "http://$HOST:$INFLUX_PORT/health" 2>/dev/null | grep -q '"status":"pass"'
}

influx_create_db() {
  local out
  out="$(curl -sS -m 10 -XPOST "http://$HOST:$INFLUX_PORT/query" \
    --data-urlencode "q=CREATE DATABASE \"$INFLUX_DB\"" 2>&1)" || die "influxdb: CREATE DATABASE failed: $out"
  [[ "$out" != *'"error"'* ]] || die "influxdb: CREATE DATABASE failed: $out"
}

# ------------------------------------------------------------- commands --
# wait_ready NAME: poll until ready; fail fast if our process died; print log tail.
wait_ready() {
  local s="$1" deadline pid
  deadline=$(($(now) + READY_TIMEOUT))
  while :; do
    if "${s}_ready"; then return 0; fi
    pid="$(svc_pid "$s" || true)"
    if [[ -z "$pid" ]] && ! port_open "$(svc_port "$s")"; then
      tail_log "$s"
      die "$s: process exited before it became ready (log: $(log_file "$s"))"
    fi
    if (($(now) >= deadline)); then
      tail_log "$s"
      die "$s: not ready after ${READY_TIMEOUT}s at $(svc_address "$s") (log: $(log_file "$s"))"
    fi
    sleep 0.5
  done
}

cmd_up() {
  local svcs=("$@") s t0 started=()
  t0="$(now)"
  take_lock
  install_missing "${svcs[@]}"
  ensure_data_dir
  for s in "${svcs[@]}"; do
    if svc_pid "$s" >/dev/null; then
      log "$s: already running (pid $(svc_pid "$s")), leaving it alone"
    elif port_open "$(svc_port "$s")"; then
      log "$s: port $(svc_port "$s") already answers, leaving it alone"
    else
      log "$s: starting on $(svc_address "$s") ..."
      "start_$s"
      started+=("$s")
    fi
  done
  for s in "${svcs[@]}"; do
    wait_ready "$s"
    if [[ "$s" == influxdb ]]; then influx_create_db; fi
    log "$s: ready at $(svc_address "$s")"
  done
  log "up done in $(($(now) - t0)) s (data: $DATA_DIR, logs: $RUN_DIR/logs)"
}

stop_service() {
  local s="$1" pid pgid deadline
  if ! pid="$(svc_pid "$s")"; then
    rm -f "$(pid_file "$s")"
    if port_open "$(svc_port "$s")"; then
      log "$s: WARNING: port $(svc_port "$s") still answers, but not from a process started by this script"
    else
      log "$s: not running"
    fi
    return 0
  fi
  log "$s: stopping pid $pid ..."
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
  # our daemons lead their own process group (setsid): signal the whole group
  if [[ "$pgid" == "$pid" ]]; then kill -TERM -- "-$pid" 2>/dev/null || true
  else kill -TERM "$pid" 2>/dev/null || true; fi
  deadline=$(($(now) + STOP_TIMEOUT))
  while pid_alive "$pid" && (($(now) < deadline)); do sleep 0.2; done
  if pid_alive "$pid"; then
    log "$s: still alive after ${STOP_TIMEOUT}s, sending KILL"
    if [[ "$pgid" == "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true
    else kill -KILL "$pid" 2>/dev/null || true; fi
    deadline=$(($(now) + 10))
    while pid_alive "$pid" && (($(now) < deadline)); do sleep 0.2; done
    pid_alive "$pid" && die "$s: pid $pid survived KILL"
  fi
  # The exited daemon was re-parented to PID 1, which reaps it shortly; wait for that
  # (up to 5 s) so no <defunct> entry is left behind.
  deadline=$(($(now) + 5))
  while [[ -e "/proc/$pid" ]] && (($(now) < deadline)); do sleep 0.1; done
  rm -f "$(pid_file "$s")"
  log "$s: stopped"
}

cmd_down() {
  local explicit="$1"
  shift
  local s
  take_lock
  mkdir -p "$RUN_DIR/pids"
  # stop in parallel (each waits for its own process to exit and be reaped)
  local pids=() fail=0 p
  for s in "$@"; do
    ((explicit)) && touch "$(stopped_marker "$s")"
    ( stop_service "$s" ) &
    pids+=("$!")
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  ((fail == 0)) || die "could not stop every service"
  if ((!explicit)); then
    local cur=""
    [[ -f "$RUN_DIR/current" ]] && cur="$(cat "$RUN_DIR/current" 2>/dev/null || true)"
    if [[ -n "$cur" && -d "$cur" ]]; then
      rm -rf -- "$cur"
      log "removed data $cur"
    fi
    rm -f "$RUN_DIR/current" "$RUN_DIR"/pids/*.pid "$RUN_DIR"/pids/*.stopped
    # data dirs of older runs whose `current` pointer was lost
    rm -rf -- "$RUN_DIR"/data.* 2>/dev/null || true
  else
    log "data kept in $(cat "$RUN_DIR/current" 2>/dev/null || echo '?') (run 'down' without names to remove it)"
  fi
}

cmd_status() {
  local s pid state all=0 extra
  for s in "$@"; do
    pid="$(svc_pid "$s" || true)"
    extra=""
    [[ -n "$pid" ]] && extra="pid $pid"
    if port_open "$(svc_port "$s")"; then
      case "$s" in
        nats) nats_ready && state=running || state=starting ;;
        influxdb) influxdb_ready && state=running || state=starting ;;
        *) state=running ;;
      esac
      [[ -z "$pid" ]] && extra="not started by this script"
    elif [[ -n "$pid" ]]; then
      state=starting
    else
      state=stopped
    fi
    [[ "$state" == running ]] || all=1
    printf '%-9s %-9s %s%s\n' "$s" "$state" "$(svc_address "$s")" "${extra:+  [$extra]}"
  done
  if [[ -f "$RUN_DIR/current" ]]; then printf 'data: %s\n' "$(cat "$RUN_DIR/current")"; fi
  return "$all"
}

cmd_env() {
  cat <<EOF
KAFKA_BROKERS=$HOST:$KAFKA_PORT
NATS_URL=nats://$HOST:$NATS_PORT
INFLUX_URL=http://$HOST:$INFLUX_PORT
INFLUX_BUCKET=$INFLUX_DB/autogen
INFLUX_ORG=-
INFLUX_TOKEN=
EOF
}

cmd_logs() {
  local s
  for s in "$@"; do
    if [[ -s "$(log_file "$s")" ]]; then
      printf '===== %s (%s)\n' "$s" "$(log_file "$s")"
      tail -n "${SERVICES_LOG_LINES:-60}" "$(log_file "$s")"
    else
      printf '===== %s: no log\n' "$s"
    fi
  done
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  local svcs=("$@")
  ((${#svcs[@]})) || svcs=("${ALL_SERVICES[@]}")
  case "$cmd" in
    up | start) validate_services "${svcs[@]}"; cmd_up "${svcs[@]}" ;;
    down | stop)
      validate_services "${svcs[@]}"
      if (($# > 0)); then cmd_down 1 "${svcs[@]}"; else cmd_down 0 "${svcs[@]}"; fi ;;
    start-one) (($# == 1)) || die "usage: $0 start-one NAME"; validate_services "$1"; cmd_up "$1" ;;
    stop-one) (($# == 1)) || die "usage: $0 stop-one NAME"; validate_services "$1"; cmd_down 1 "$1" ;;
    status) validate_services "${svcs[@]}"; cmd_status "${svcs[@]}" ;;
    install) validate_services "${svcs[@]}"; take_lock; install_missing "${svcs[@]}" ;;
    env) cmd_env ;;
    logs) validate_services "${svcs[@]}"; cmd_logs "${svcs[@]}" ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
