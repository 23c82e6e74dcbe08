#!/usr/bin/env bash
# `make run`: the local control plane, the CRD, an example task, and the operator in
# the foreground (Ctrl-C stops it; the cluster keeps running until `make cluster-down`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${VENV:-.venv}
kubeconfig="$PWD/.local-cluster/kubeconfig"
kubectl=".local-cluster/bin/kubectl"

"$venv/bin/python" -m localcluster up
"$kubectl" --kubeconfig "$kubeconfig" apply --server-side --force-conflicts -f crds/kron.dev_scheduledtasks.yaml -f crds/kron.dev_calendars.yaml
"$kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Established crd/scheduledtasks.kron.dev crd/calendars.kron.dev --timeout=60s
"$kubectl" --kubeconfig "$kubeconfig" apply -n default -f crds/samples/heartbeat.yaml

cat <<MSG

kron is starting against the local cluster. In another terminal:

  export KUBECONFIG=$kubeconfig
  $kubectl get scheduledtasks -w          # the example fires every 5 seconds
  $kubectl get jobs -l kron.dev/task=heartbeat
  curl -s localhost:${KRON_METRICS_PORT:-8080}/metrics | grep kron_fire

MSG
exec "$venv/bin/kron" run --kubeconfig "$kubeconfig" --lease-namespace default "$@"
