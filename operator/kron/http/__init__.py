"""The operator's HTTP port: /metrics, /healthz and /readyz, bounded against its clients.

`server` routes and answers, `scrape` renders the metrics page off the event loop,
`guard` caps connections and turns bad requests into counted, rate-limited log lines.
"""

from kron.http.scrape import METRICS_CACHE_SECONDS
from kron.http.server import METRICS_CONTENT_TYPE, HttpLimits, HttpServer, Probe, start_http

__all__ = [
    "METRICS_CACHE_SECONDS",
    "METRICS_CONTENT_TYPE",
    "HttpLimits",
    "HttpServer",
    "Probe",
    "start_http",
]
