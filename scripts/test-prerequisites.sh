#!/usr/bin/env bash
# Installs what `npm test` needs beyond node_modules, from Debian's packages only: PostgreSQL (each test run starts a
# throwaway server of its own), graphviz (`dot`, to check the SVG pictures), kubectl (the Kubernetes tests check what
# a user sees with it), and the Kubernetes control plane the tests run against, built once per machine by
# scripts/k8s-testbed-build.sh (6-10 minutes the first time, then cached). Installs nothing that is already there.
#
#   scripts/test-prerequisites.sh && npm test
#
# Needs root or sudo for apt-get; on a machine that has everything it changes nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo env DEBIAN_FRONTEND=noninteractive "$@"
  else echo "test-prerequisites: '$*' needs root; run this script as root or install sudo" >&2; exit 1; fi
}

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v dot >/dev/null || missing+=(graphviz)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if ((${#missing[@]})); then
  echo "test-prerequisites: installing from Debian: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q >&2
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

scripts/k8s-testbed-build.sh

postgres=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
echo "test-prerequisites: $("$postgres/postgres" --version); $(dot -V 2>&1); kubectl $(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -n 1); $("${K8S_TESTBED_CACHE:-/var/cache/k8s-testbed}/bin/kube-apiserver" --version)" >&2
