"""One run's page: the Job (or bare Pod) a tick created, and its Pods, as the API has them.

Read on demand with the user's credentials (a run page is opened rarely, so it has no
feed of its own). History links here; when the run is gone (history limits delete
finished runs) the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kron.api import RunKind
from kron.api.constants import ANN_ATTEMPT, ANN_SCHEDULED_TIME, ANN_TRIGGER, LABEL_TASK
from kron.k8s.api import ApiError, run_path
from kron.ui.feeds import explain
from kron.ui.security import Refused
from kron.ui.server import _identity, _namespace, _task_name, _ui, html, page_context

KINDS = {"job": RunKind.JOB, "pod": RunKind.POD}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class PodView:
    name: str
    phase: str
    node: str
    containers: list[str]


@dataclass(slots=True)
class RunView:
    kind: str
    name: str
    namespace: str
    task: str | None
    facts: list[tuple[str, str]] = field(default_factory=list)
    conditions: list[tuple[str, str, str, str]] = field(default_factory=list)
    pods: list[PodView] = field(default_factory=list)


def _container_state(status: dict[str, Any]) -> str:
    name = str(status.get("name") or "?")
    state = _dict(status.get("state"))
    if "terminated" in state:
        done = _dict(state["terminated"])
        return f"{name}: terminated, exit code {done.get('exitCode')} ({done.get('reason') or '-'})"
    if "waiting" in state:
        return f"{name}: waiting ({_dict(state['waiting']).get('reason') or '-'})"
    if "running" in state:
        return f"{name}: running since {_dict(state['running']).get('startedAt') or '?'}"
    return f"{name}: no state yet"


def pod_view(obj: dict[str, Any]) -> PodView:
    status, spec = _dict(obj.get("status")), _dict(obj.get("spec"))
    return PodView(
        name=str(_dict(obj.get("metadata")).get("name") or "?"),
        phase=str(status.get("phase") or "Unknown"),
        node=str(spec.get("nodeName") or "-"),
        containers=[_container_state(_dict(c)) for c in status.get("containerStatuses") or ()],
    )


def run_view(kind: RunKind, obj: dict[str, Any]) -> RunView:
    meta, status = _dict(obj.get("metadata")), _dict(obj.get("status"))
    annotations, labels = _dict(meta.get("annotations")), _dict(meta.get("labels"))
    view = RunView(
        kind=kind.value,
        name=str(meta.get("name") or "?"),
        namespace=str(meta.get("namespace") or "?"),
        task=labels.get(LABEL_TASK),
    )
    view.facts = [
        ("Scheduled for", str(annotations.get(ANN_SCHEDULED_TIME) or "-")),
        ("Trigger", str(annotations.get(ANN_TRIGGER) or "-")),
        ("Attempt", str(annotations.get(ANN_ATTEMPT) or "0")),
        ("Created", str(meta.get("creationTimestamp") or "-")),
    ]
    if kind is RunKind.JOB:
        view.facts += [
            ("Started", str(status.get("startTime") or "-")),
            ("Completed", str(status.get("completionTime") or "-")),
            (
                "Pods",
                f"{status.get('active') or 0} active, {status.get('succeeded') or 0} succeeded, "
                f"{status.get('failed') or 0} failed",
            ),
        ]
        view.conditions = [
            (
                str(c.get("type")),
                str(c.get("status")),
                str(c.get("reason") or ""),
                str(c.get("message") or "")[:300],
            )
            for c in (status.get("conditions") or ())
            if isinstance(c, dict)
        ]
    else:
        view.pods = [pod_view(obj)]
    return view


async def run_page(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    namespace, name = _namespace(request), _task_name(request)
    kind = KINDS.get(request.match_info["kind"])
    if kind is None:
        raise Refused(404, "Not found", "runs are Jobs or Pods")
    context = await page_context(request, namespace)
    try:
        obj = await identity.api.request("GET", run_path(kind, namespace, name))
    except ApiError as err:
        if err.not_found:
            message = (
                f"{kind.value} {name} is not in namespace {namespace} any more: finished runs "
                "beyond the task's history limits are deleted (their outcome stays in its history)."
            )
            return html(ui.render("error.html", title="Run gone", message=message, status=404), 404)
        raise Refused(
            err.status or 502, f"Cannot read {kind.value} {name}", explain_run(err)
        ) from None
    view = run_view(kind, obj)
    if kind is RunKind.JOB:
        try:
            pods = await identity.api.list_all(
                run_path(RunKind.POD, namespace), label_selector=f"job-name={name}"
            )
            view.pods = [pod_view(p) for p in pods.items[:50]]
        except ApiError as err:
            context["pods_error"] = explain_run(err)
    context.update(run=view, pods_error=context.get("pods_error"))
    return html(ui.render("run.html", **context))


def explain_run(err: ApiError) -> str:
    return explain(err)
