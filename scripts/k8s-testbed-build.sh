#!/usr/bin/env bash
# Builds the Kubernetes control plane the tests run against (kube-apiserver, kube-controller-manager and
# kube-scheduler 1.20) from Debian's `kubernetes` source package with Debian's Go, and installs etcd from Debian.
# Only Debian's archive is used: no Docker, no download from anywhere else. The binaries are cached in
# $K8S_TESTBED_CACHE/bin (default /var/cache/k8s-testbed), so a second run returns at once.
#
#   scripts/k8s-testbed-build.sh [--force]
#
# Environment: K8S_TESTBED_CACHE, K8S_TESTBED_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# K8S_TESTBED_DEBIAN_SUITE (default bookworm). Takes 6-10 minutes and ~1.5 GB of memory on 2 cores when cold.
set -euo pipefail

started=$SECONDS
say() { printf '[k8s-testbed build %4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
fail() { printf '[k8s-testbed build] error: %s\n' "$*" >&2; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $arg (try --help)" ;;
  esac
done

cache=${K8S_TESTBED_CACHE:-/var/cache/k8s-testbed}
mirror=${K8S_TESTBED_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${K8S_TESTBED_DEBIAN_SUITE:-bookworm}
components=(kube-apiserver kube-controller-manager kube-scheduler)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# What the test-bed needs to run, and what only the build needs.
run_packages=(etcd-server openssl)
build_packages=(golang-go make rsync dpkg-dev xz-utils debian-archive-keyring golang-github-modern-go-reflect2-dev)

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo env DEBIAN_FRONTEND=noninteractive "$@"
  else fail "run as root or install sudo: '$*' needs root"; fi
}

ensure_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  say "installing from Debian: ${missing[*]}"
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
    as_root apt-get update -q >&2
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  }
}

built() {
  local component
  for component in "${components[@]}"; do
    "$cache/bin/$component" --version 2>/dev/null | grep -q '^Kubernetes v1\.20\.' || return 1
  done
}

command -v apt-get >/dev/null || fail "this needs a Debian or Ubuntu machine (apt-get)"
if ((force == 0)) && built; then
  ensure_packages "${run_packages[@]}"
  say "already built in $cache/bin: $("$cache/bin/kube-apiserver" --version)"
  exit 0
fi

mkdir -p "$cache" || fail "cannot create $cache; set K8S_TESTBED_CACHE to a folder you can write"
cache=$(cd "$cache" && pwd)
exec 8>"$cache/.build.lock"
flock -w 3600 8 || fail "another build holds $cache/.build.lock"
if ((force == 0)) && built; then say "built meanwhile by another run"; exit 0; fi

ensure_packages "${run_packages[@]}" "${build_packages[@]}"
export PATH=/usr/lib/go/bin:$PATH
say "$(go version)"

# The source package, fetched with an apt configuration of our own so the machine's sources stay as they are.
work=$cache/src
mkdir -p "$work"
tree=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' -print -quit)
if [[ -n $tree && ! -f $tree/.unpacked ]]; then say "removing the partly unpacked $tree"; rm -rf "$tree"; tree=; fi
if [[ -z $tree ]]; then
  apt_dir=$cache/apt
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/parts"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$apt_dir/sources.list"
  printf 'deb-src [signed-by=%s] %s %s-security main\n' "$keyring" "${mirror%/debian}/debian-security" "$suite" >>"$apt_dir/sources.list"
  apt_options=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir")
  [[ $EUID -ne 0 ]] || apt_options+=(-o APT::Sandbox::User=root)
  say "fetching the kubernetes source package from $mirror ($suite)"
  apt-get "${apt_options[@]}" update >&2
  (cd "$work" && apt-get "${apt_options[@]}" source kubernetes >&2)
  rm -f "$work"/kubernetes_*.tar.*
  tree=$(find "$work" -maxdepth 1 -type d -name 'kubernetes-*' -print -quit)
  [[ -n $tree && -f $tree/Makefile ]] || fail "apt-get source kubernetes left no source tree in $work"
  touch "$tree/.unpacked"
fi
say "source: $tree"

# Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, which crashes on Go 1.18 and later: use Debian's 1.0.2.
reflect2=$tree/vendor/github.com/modern-go/reflect2
if [[ ! -f $reflect2/go_above_118.go ]]; then
  say "replacing the vendored reflect2 with Debian's golang-github-modern-go-reflect2-dev"
  rm -f "$reflect2"/*.go "$reflect2"/*.s
  find /usr/share/gocode/src/github.com/modern-go/reflect2 -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) \
    ! -name '*_test.go' -exec cp {} "$reflect2/" \;
fi

# The build expects the tree at k8s.io/kubernetes inside a GOPATH, and must not reach the network.
mkdir -p "$tree/.gopath/src/k8s.io" "$cache/home"
[[ -L $tree/.gopath/src/k8s.io/kubernetes ]] || ln -s ../../.. "$tree/.gopath/src/k8s.io/kubernetes"
log=$cache/make.log
say "compiling ${components[*]} (log: $log)"
(while sleep 60; do say "still compiling"; done) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
what=$(printf 'cmd/%s ' "${components[@]}")
if ! (cd "$tree" && env -u GOFLAGS -u GOROOT HOME="$cache/home" GOPATH="$tree/.gopath" GOPROXY=off GOSUMDB=off \
  GOTOOLCHAIN=local CGO_ENABLED=0 make WHAT="${what% }" >"$log" 2>&1); then
  tail -n 30 "$log" >&2
  fail "compiling failed; the whole log is $log"
fi

mkdir -p "$cache/bin"
for component in "${components[@]}"; do
  binary=$(find "$tree/_output" -type f -name "$component" -perm -u+x -print -quit)
  [[ -n $binary ]] || fail "no $component under $tree/_output after make"
  cp "$binary" "$cache/bin/$component.new"
  mv -f "$cache/bin/$component.new" "$cache/bin/$component"
done
built || fail "the binaries in $cache/bin do not report Kubernetes v1.20"
say "built ${components[*]} in $cache/bin: $("$cache/bin/kube-apiserver" --version)"
