"""``python -m localcluster up|down|status``: what ``make cluster-*`` runs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from localcluster.binaries import BinariesError
from localcluster.cluster import ClusterError, LocalCluster
from localcluster.pki import PkiError


def _print_status(status: dict[str, Any]) -> None:
    if status["server"] is None:
        print(f"no local cluster at {status['root']} (make cluster-up starts one)")
        return
    print(f"cluster:    {'up' if status['up'] else 'DEGRADED'} at {status['server']}")
    print(f"kubeconfig: {status['kubeconfig']}")
    print(f"binaries:   {status['bin_dir']}")
    print(f"settings:   {' '.join(f'{k}={v}' for k, v in status['settings'].items())}")
    for name, c in status["components"].items():
        state = "healthy" if c["healthy"] else ("running" if c["running"] else "stopped")
        pid = c["pid"] if c["pid"] is not None else "-"
        ports = ",".join(map(str, c["ports"]))
        detail = "" if c["healthy"] else f"  ({c['detail']}; log {c['log']})"
        print(f"  {name:<24} {state:<8} pid {pid!s:<8} port {ports}{detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the cluster (reuses a running one)")
    up.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    sub.add_parser("down", help="stop every component and remove all state")
    status = sub.add_parser("status", help="say what runs (exit 1 unless all healthy)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="localcluster: %(message)s")
    cluster = LocalCluster()
    try:
        if args.command == "up":
            cluster.up(timeout=args.timeout)
            print(f"export KUBECONFIG={cluster.kubeconfig}")
            print(f"kubectl and helm are linked in {cluster.layout.bin_links}")
        elif args.command == "down":
            cluster.down()
        else:
            result = cluster.status()
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                _print_status(result)
            return 0 if result["up"] else 1
    except (ClusterError, BinariesError, PkiError) as exc:
        print(f"localcluster {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
