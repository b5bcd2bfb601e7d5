#!/usr/bin/env bash
# Runs docker-compose.yml for real, as the README tells users to, on this machine (as root):
#   1. Debian's docker.io and docker-compose when missing; dockerd started when not running.
#   2. Stand-in base images when absent (no registry is reachable here): node:20-bookworm-slim from
#      a debootstrap'ed Debian 12 with this machine's Node and npm, eclipse-mosquitto:2 with
#      Debian's mosquitto at /mosquitto/...; both trust this machine's CA bundle. Kept between runs.
#   3. CAMERAS=40 SIMULATORS=2 GATEWAYS=2 docker-compose up -d --build; every service healthy;
#      every camera online under a live gateway (two simulator shards merged); face events at the
#      published broker port scored against the ground truth; `run --rm watch`; --scale gateway=3
#      rebalanced; a docker-killed gateway's cameras taken over; down -v leaving nothing behind.
# Figures and timings go to stdout. Env: CAMERAS, COMPOSE_CACHE (default /var/cache/facegate-compose).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache=${COMPOSE_CACHE:-/var/cache/facegate-compose}
cameras=${CAMERAS:-40}
t_start=$(date +%s)
say() { printf '[compose-test +%ss] %s\n' "$(($(date +%s) - t_start))" "$*"; }
fail() { say "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (installs packages, starts dockerd, debootstrap)"
mkdir -p "$cache"

# --- 1. engine and compose --------------------------------------------------------------------
pkgs=()
command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || pkgs+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || pkgs+=(debootstrap)
command -v mosquitto_sub >/dev/null 2>&1 || pkgs+=(mosquitto-clients)
if [ ${#pkgs[@]} -gt 0 ]; then
  say "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
started_dockerd=
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $cache/dockerd.log)"
  setsid dockerd >"$cache/dockerd.log" 2>&1 </dev/null &
  echo $! >"$cache/dockerd.pid"
  started_dockerd=1
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -5 "$cache/dockerd.log"; fail "dockerd did not start; see $cache/dockerd.log"; }
fi
say "engine $(docker version --format '{{.Server.Version}}'), $(docker-compose version --short 2>/dev/null || docker-compose --version)"

# --- 2. stand-in base images --------------------------------------------------------------------
standin() { docker image inspect "$1" >/dev/null 2>&1; }
if ! standin facegate-standin/debian:bookworm; then
  if [ ! -f "$cache/rootfs/.complete" ]; then
    say "debootstrap --variant=minbase bookworm (once; log: $cache/debootstrap.log)"
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
      || fail "debootstrap; see $cache/debootstrap.log"
    touch "$cache/rootfs/.complete"
  fi
  say "docker import of the Debian 12 base"
  tar -C "$cache/rootfs" --exclude=./.complete -c . | docker import - facegate-standin/debian:bookworm >/dev/null
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# The machine's CA bundle and local CAs: registries and mirrors are reached through its proxy.
mkdir -p "$ctx/ca"
cp -a /usr/local/share/ca-certificates/. "$ctx/ca/" 2>/dev/null || true
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
if ! standin node:20-bookworm-slim; then
  say "building the stand-in node:20-bookworm-slim ($(node --version) from this machine)"
  install -m 755 "$(command -v node)" "$ctx/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ctx/npm"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM facegate-standin/debian:bookworm
COPY ca/ /usr/local/share/ca-certificates/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL facegate.standin="node:20-bookworm-slim built by scripts/compose-test.sh"
CMD ["node"]
EOF
  docker build -q -t node:20-bookworm-slim "$ctx" >>"$cache/build.log" 2>&1 || fail "stand-in node image; see $cache/build.log"
fi
if ! standin eclipse-mosquitto:2; then
  say "building the stand-in eclipse-mosquitto:2 (Debian's mosquitto)"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM facegate-standin/debian:bookworm
COPY ca/ /usr/local/share/ca-certificates/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN apt-get update && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
 && chown -R mosquitto:mosquitto /mosquitto/data /mosquitto/log
LABEL facegate.standin="eclipse-mosquitto:2 built by scripts/compose-test.sh"
EXPOSE 1883
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
EOF
  docker build -q -t eclipse-mosquitto:2 "$ctx" >>"$cache/build.log" 2>&1 || fail "stand-in mosquitto image; see $cache/build.log"
fi

# --- 3. the compose city --------------------------------------------------------------------------
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export COMPOSE_PROJECT_NAME=facegate-composetest
export CAMERAS=$cameras SIMULATORS=2 GATEWAYS=2 BIND_ADDRESS=127.0.0.1
export MQTT_PORT=${MQTT_PORT:-$(free_port)}
rtsp=$(free_port)
export RTSP_PORTS="$rtsp-$((rtsp + 9))"
dc() { docker-compose "$@"; }
check() { node --import tsx scripts/compose-check.ts --url "mqtt://127.0.0.1:$MQTT_PORT" --cameras "$cameras" "$@"; }
leftovers() {
  local f="label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
  { docker ps -aq --filter "$f"; docker volume ls -q --filter "$f"; docker network ls -q --filter "$f"; } | wc -l
}
teardown() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    say "state at the failure:"
    dc ps || true
    dc logs --tail 30 2>&1 | tail -150 || true
  fi
  dc down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$ctx"
  if [ -n "$started_dockerd" ] && [ -z "${KEEP_DOCKERD:-}" ]; then
    kill "$(cat "$cache/dockerd.pid")" 2>/dev/null || true
  fi
  exit $rc
}
trap teardown EXIT
[ "$(leftovers)" = 0 ] || dc down -v --remove-orphans >/dev/null 2>&1

say "CAMERAS=$CAMERAS SIMULATORS=2 GATEWAYS=2 docker-compose up -d --build (broker on 127.0.0.1:$MQTT_PORT)"
t=$(date +%s)
dc up -d --build >"$cache/up.log" 2>&1 || { tail -40 "$cache/up.log"; fail "docker-compose up"; }
say "up returned in $(($(date +%s) - t)) s"
healthy() {
  local want=$1 ids states
  ids=$(dc ps -q)
  [ "$(echo "$ids" | grep -c .)" = "$want" ] || return 1
  states=$(docker inspect --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids)
  ! echo "$states" | grep -qv ' running healthy$'
}
wait_healthy() {
  local want=$1 t=$(date +%s)
  until healthy "$want"; do
    [ $(($(date +%s) - t)) -lt 600 ] || { dc ps; fail "not every one of $want containers healthy in 600 s"; }
    sleep 3
  done
  say "all $want containers running and healthy ($(($(date +%s) - t)) s)"
}
wait_healthy 5 # broker, 2 simulators, 2 gateways
dc ps

say "every camera online under a live gateway, from the merged catalogs of the two simulator shards"
check city --simulators 2 --gateways 2 --timeout 180
say "face events at the published broker port, against the ground truth"
check faces --seconds 60

say "docker-compose run -T --rm watch --count 5 (-T: no terminal here)"
out=$(timeout 60 docker-compose run -T --rm watch --count 5 2>/dev/null) || fail "watch: $out"
echo "$out" | sed 's/^/    /'
[ "$(echo "$out" | grep -c .)" = 5 ] || fail "watch printed $(echo "$out" | grep -c .) lines, not 5"

say "docker-compose up -d --scale gateway=3"
dc up -d --scale gateway=3 >>"$cache/up.log" 2>&1 || fail "scale to 3"
wait_healthy 6
check city --simulators 2 --gateways 3 --timeout 120

victim=$(dc ps -q gateway | awk "NR == 1")
# A replica's gateway id is gw-<container hostname>-<pid>.
gid="gw-$(docker inspect --format '{{.Config.Hostname}}' "$victim")-"
say "docker kill of one gateway ($gid...)"
check takeover --gateway "$gid" --action "docker kill $victim >/dev/null" --timeout 120 || fail "takeover"
check city --simulators 2 --gateways "$(dc ps -q gateway | xargs docker inspect --format '{{.State.Running}}' | grep -c true)" --timeout 120

say "docker-compose down -v"
dc down -v --remove-orphans >/dev/null 2>&1
n=$(leftovers)
[ "$n" = 0 ] || fail "$n containers, volumes or networks left behind"
say "nothing left behind; compose test passed in $(($(date +%s) - t_start)) s"
