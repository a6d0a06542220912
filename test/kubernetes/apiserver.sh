#!/usr/bin/env bash
# The real-apiserver test tier: builds kube-apiserver and kube-controller-manager from Debian's
# `kubernetes` source package (1.20, with its vendor/ tree) with Debian's golang-go, once, into a cache
# folder, and runs them with Debian's etcd on loopback.
#
#   bash test/kubernetes/apiserver.sh build    # idempotent: finished steps are skipped; each step is timed
#   bash test/kubernetes/apiserver.sh start    # build if needed, start etcd + apiserver + controller-manager
#   bash test/kubernetes/apiserver.sh env      # prints `export VIGIL_K8S_TEST_KUBECONFIG=...` for a started tier
#   bash test/kubernetes/apiserver.sh stop     # stops everything `start` started, removes the etcd data
#   bash test/kubernetes/apiserver.sh status
#
# Then: VIGIL_K8S_TEST_KUBECONFIG=<printed path> npx vitest run test/kubernetes
#
# Environment:
#   VIGIL_K8S_CACHE  cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/vigil-k8s-tier)
#   VIGIL_K8S_RUN    runtime folder: kubeconfig, pids, logs, etcd data (default $VIGIL_K8S_CACHE/run)
# There is no kubelet: pods never run. Tests play the kubelet's part by writing pod and Job status.
set -euo pipefail

CACHE="${VIGIL_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-k8s-tier}"
RUN="${VIGIL_K8S_RUN:-$CACHE/run}"
BIN="$CACHE/bin"
STAMPS="$CACHE/stamps"
PACKAGES=(golang-go etcd-server dpkg-dev openssl curl)
# Jobs' ttlSecondsAfterFinished is alpha in 1.20 (on by default since 1.21): enable it like current clusters.
FEATURE_GATES=TTLAfterFinished=true

log() { printf 'apiserver.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Runs one build step unless its stamp exists, and reports how long it took.
step() {
  local name=$1
  shift
  if [ -e "$STAMPS/$name" ]; then
    log "step $name: done already ($(cat "$STAMPS/$name"))"
    return 0
  fi
  local begin=$SECONDS
  log "step $name: running"
  "$@"
  local took=$((SECONDS - begin))
  mkdir -p "$STAMPS"
  printf '%ss on %s\n' "$took" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAMPS/$name"
  log "step $name: ${took}s"
}

have_packages() {
  command -v go >/dev/null && command -v etcd >/dev/null && command -v dpkg-source >/dev/null &&
    command -v openssl >/dev/null && command -v curl >/dev/null
}

has_deb_src() {
  grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

install_packages() {
  if ! has_deb_src; then
    log "adding a deb-src entry (/etc/apt/sources.list.d/vigil-deb-src.sources) for apt-get source"
    local suite
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    as_root tee /etc/apt/sources.list.d/vigil-deb-src.sources >/dev/null <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  as_root apt-get update -qq
  if ! have_packages; then
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
  fi
}

fetch_source() {
  rm -rf "$CACHE/dl" "$CACHE/src"
  mkdir -p "$CACHE/dl"
  (cd "$CACHE/dl" && apt-get source --download-only kubernetes >/dev/null)
  (cd "$CACHE/dl" && dpkg-source -x --no-check kubernetes_*.dsc "$CACHE/src" >/dev/null)
  rm -rf "$CACHE/dl"
}

# GOPATH mode: the 1.20 tree's go.mod would ask for updates in module mode.
go_env() {
  export GOPATH="$CACHE/gopath" GO111MODULE=off GOCACHE="$CACHE/gocache" GOFLAGS=
  mkdir -p "$GOPATH/src/k8s.io" "$BIN"
  ln -sfn "$CACHE/src" "$GOPATH/src/k8s.io/kubernetes"
  cd "$GOPATH/src/k8s.io/kubernetes"
}

build_openapi_gen() {
  (go_env && go build -o "$BIN/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen)
}

generate_openapi() {
  (
    go_env
    local dirs
    dirs=$( (find pkg cmd plugin staging/src/k8s.io -name '*.go' -not -path '*/testdata/*' -print0 |
      xargs -0 grep -l '^// *+k8s:openapi-gen=') | xargs -n1 dirname | sed 's#^staging/src/#vendor/#' |
      grep -v -e vendor/k8s.io/code-generator -e vendor/k8s.io/sample-apiserver | LC_ALL=C sort -u |
      sed 's#^#k8s.io/kubernetes/#' | paste -sd, -)
    "$BIN/openapi-gen" --logtostderr -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi \
      -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
      -r "$CACHE/openapi-violations.report" 2>"$CACHE/openapi-gen.log"
  )
}

# The 1.20 tree vendors modern-go/reflect2 v1.0.1, whose map iteration links reflect.mapiterinit with the
# pre-Go-1.18 signature and a two-field iterator: with Go 1.19 the apiserver crashes when it encodes a map
# (custom resources do). reflect2 v1.0.2 fixed it by declaring the new signature per Go version and the
# runtime's full iterator layout; the same change is made here.
patch_reflect2() {
  local dir="$CACHE/src/vendor/github.com/modern-go/reflect2"
  perl -0pi -e 's{type hiter struct \{\n\tkey   unsafe\.Pointer[^\n]*\n\tvalue unsafe\.Pointer[^\n]*\n\t// rest fields are ignored\n\}}{type hiter struct {\n\tkey         unsafe.Pointer\n\tvalue       unsafe.Pointer\n\tt           unsafe.Pointer\n\th           unsafe.Pointer\n\tbuckets     unsafe.Pointer\n\tbptr        unsafe.Pointer\n\toverflow    *[]unsafe.Pointer\n\toldoverflow *[]unsafe.Pointer\n\tstartBucket uintptr\n\toffset      uint8\n\twrapped     bool\n\tB           uint8\n\ti           uint8\n\tbucket      uintptr\n\tcheckBucket uintptr\n}}' "$dir/unsafe_link.go"
  grep -q 'checkBucket uintptr' "$dir/unsafe_link.go" || die "reflect2: unexpected hiter layout in $dir/unsafe_link.go"
  if [ -e "$dir/go_above_118.go" ]; then return 0; fi
  perl -0pi -e 's{// m escapes into the return value[^\n]*\n// doesn.t let the return value escape\.\n//go:noescape\n//go:linkname mapiterinit reflect\.mapiterinit\nfunc mapiterinit\(rtype unsafe\.Pointer, m unsafe\.Pointer\) \*hiter\n}{}' "$dir/unsafe_link.go"
  perl -0pi -e 's{func \(type2 \*UnsafeMapType\) UnsafeIterate\(obj unsafe\.Pointer\) MapIterator \{\n.*?\n\}\n}{}s' "$dir/unsafe_map.go"
  if grep -q 'func mapiterinit\|func (type2 \*UnsafeMapType) UnsafeIterate' "$dir/unsafe_link.go" "$dir/unsafe_map.go"; then
    die "reflect2 is not the v1.0.1 this patch expects ($dir)"
  fi
  cat >"$dir/go_above_118.go" <<'GO'
//go:build go1.18

package reflect2

import "unsafe"

// Since Go 1.18 reflect.mapiterinit fills an iterator the caller provides.
//go:noescape
//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)

func (type2 *UnsafeMapType) UnsafeIterate(obj unsafe.Pointer) MapIterator {
	var it hiter
	mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj), &it)
	return &UnsafeMapIterator{hiter: &it, pKeyRType: type2.pKeyRType, pElemRType: type2.pElemRType}
}
GO
  cat >"$dir/go_below_118.go" <<'GO'
//go:build !go1.18

package reflect2

import "unsafe"

//go:noescape
//go:linkname mapiterinit reflect.mapiterinit
func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) *hiter

func (type2 *UnsafeMapType) UnsafeIterate(obj unsafe.Pointer) MapIterator {
	return &UnsafeMapIterator{
		hiter:      mapiterinit(type2.rtype, *(*unsafe.Pointer)(obj)),
		pKeyRType:  type2.pKeyRType,
		pElemRType: type2.pElemRType,
	}
}
GO
}

build_servers() {
  (go_env && go build -o "$BIN/" ./cmd/kube-apiserver ./cmd/kube-controller-manager)
}

build() {
  local begin=$SECONDS
  mkdir -p "$CACHE"
  if have_packages && [ -e "$STAMPS/source" ]; then
    log "step packages: installed already"
  else
    step packages install_packages
  fi
  step source fetch_source
  step openapi-gen build_openapi_gen
  step openapi generate_openapi
  # Binaries built before the patch must be rebuilt with it.
  if [ ! -e "$STAMPS/reflect2-go118" ]; then rm -f "$STAMPS/servers"; fi
  step reflect2-go118 patch_reflect2
  # A binary removed by hand is rebuilt (the Go cache makes that quick).
  if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ]; then rm -f "$STAMPS/servers"; fi
  step servers build_servers
  log "build: $((SECONDS - begin))s in total (cache: $CACHE)"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

running() { [ -f "$RUN/pids" ] && while read -r pid; do kill -0 "$pid" 2>/dev/null || return 1; done <"$RUN/pids"; }

start() {
  build
  if running; then
    log "already running; kubeconfig: $RUN/kubeconfig"
    print_env
    return 0
  fi
  stop_quietly
  local begin=$SECONDS
  mkdir -p "$RUN"
  rm -rf "$RUN/etcd" "$RUN/certs" && mkdir -p "$RUN/certs"
  openssl genrsa -out "$RUN/sa.key" 2048 2>/dev/null
  openssl rsa -in "$RUN/sa.key" -pubout -out "$RUN/sa.pub" 2>/dev/null
  local token
  token=$(openssl rand -hex 24)
  printf '%s,vigil-admin,1,"system:masters"\n' "$token" >"$RUN/tokens.csv"
  chmod 600 "$RUN/tokens.csv" "$RUN/sa.key"
  local etcd_port peer_port api_port
  etcd_port=$(free_port)
  peer_port=$(free_port)
  api_port=$(free_port)
  : >"$RUN/pids"
  setsid etcd --name vigil-tier --data-dir "$RUN/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "vigil-tier=http://127.0.0.1:$peer_port" >"$RUN/etcd.log" 2>&1 </dev/null &
  echo $! >>"$RUN/pids"
  setsid "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 --secure-port="$api_port" --insecure-port=0 --cert-dir="$RUN/certs" \
    --token-auth-file="$RUN/tokens.csv" --authorization-mode=RBAC --service-account-key-file="$RUN/sa.pub" \
    --service-account-signing-key-file="$RUN/sa.key" --service-account-issuer=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true --feature-gates="$FEATURE_GATES" \
    >"$RUN/apiserver.log" 2>&1 </dev/null &
  echo $! >>"$RUN/pids"
  cat >"$RUN/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: vigil-tier
    cluster:
      server: https://127.0.0.1:$api_port
      insecure-skip-tls-verify: true
users:
  - name: vigil-admin
    user:
      token: $token
contexts:
  - name: vigil-tier
    context:
      cluster: vigil-tier
      user: vigil-admin
current-context: vigil-tier
EOF
  chmod 600 "$RUN/kubeconfig"
  local deadline=$((SECONDS + 90))
  until curl -fsk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ] || ! running; then
      tail -n 30 "$RUN/etcd.log" "$RUN/apiserver.log" >&2 || true
      stop_quietly
      die "the apiserver did not become ready within 90s (logs above)"
    fi
    sleep 0.5
  done
  setsid "$BIN/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" \
    --service-account-private-key-file="$RUN/sa.key" --leader-elect=false --bind-address=127.0.0.1 \
    --secure-port=0 --port=0 --use-service-account-credentials=false --controllers='*,-csrsigning' \
    --feature-gates="$FEATURE_GATES" \
    >"$RUN/controller-manager.log" 2>&1 </dev/null &
  echo $! >>"$RUN/pids"
  log "started in $((SECONDS - begin))s: apiserver https://127.0.0.1:$api_port, kubeconfig $RUN/kubeconfig"
  print_env
}

print_env() {
  [ -f "$RUN/kubeconfig" ] || die "not started; run: bash test/kubernetes/apiserver.sh start"
  echo "export VIGIL_K8S_TEST_KUBECONFIG=$RUN/kubeconfig"
}

stop_quietly() {
  if [ -f "$RUN/pids" ]; then
    # Reverse order: the controller-manager, then the apiserver, then etcd.
    local pids
    pids=$(tac "$RUN/pids")
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
      local alive=0
      for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    rm -f "$RUN/pids"
  fi
  rm -rf "$RUN/etcd"
}

stop() {
  stop_quietly
  log "stopped"
}

status() {
  if running; then
    log "running; kubeconfig $RUN/kubeconfig"
    print_env
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) status ;;
  *)
    echo "usage: bash test/kubernetes/apiserver.sh build|start|stop|env|status" >&2
    exit 2
    ;;
esac
