"""Confirm, then act: the pages behind the Run now, Suspend, Resume and Backfill buttons.

GET shows what the action will write (the merge patch) and what the operator will
do, computed by the CLI's own code from the task as the API server has it now; POST
(same-origin, with the form token) reads the task again, builds the same action and
sends the patch with the user's credentials. A refusal (RBAC, a used token, an empty
interval) is shown on the confirmation page in one line, with the API server's words.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from kron.cli.actions import Action
from kron.cli.cluster import get_task, patch_task
from kron.cli.errors import CliError
from kron.ui.forms import ACTIONS, ActionForm, build_action
from kron.ui.security import Refused
from kron.ui.server import (
    _identity,
    _namespace,
    _task_name,
    _ui,
    html,
    page_context,
)

MAX_NOTICES = 200


def _action_name(request: web.Request) -> str:
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise Refused(404, "Not found", f"no action {action!r}")
    return action


def _zone(obj: dict[str, Any]) -> str:
    spec = obj.get("spec")
    return str(spec.get("timeZone") or "UTC") if isinstance(spec, dict) else "UTC"


async def _render(
    request: web.Request,
    form: ActionForm,
    *,
    obj: dict[str, Any] | None,
    action: Action | None,
    error: str | None,
    status: int = 200,
) -> web.Response:
    ui = _ui(request)
    namespace, name = _namespace(request), _task_name(request)
    context = await page_context(request, namespace)
    context.update(
        task=name,
        form=form,
        label=ACTIONS[form.action],
        action=action,
        patch=json.dumps(action.patch, indent=2) if action and action.patch else None,
        error=error,
        zone=_zone(obj) if obj else "UTC",
        spec=(obj or {}).get("spec") or {},
    )
    return html(ui.render("confirm.html", **context), status)


async def confirm(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    namespace, name, action_name = _namespace(request), _task_name(request), _action_name(request)
    now = ui.settings.clock()
    form = ActionForm.read(action_name, request.query, now)
    obj: dict[str, Any] | None = None
    try:
        obj = await get_task(identity.api, namespace, name)
        if form.needs_interval:
            return await _render(request, form, obj=obj, action=None, error=None)
        action = build_action(form, obj, name, now)
    except CliError as err:
        return await _render(request, form, obj=obj, action=None, error=err.message, status=409)
    return await _render(request, form, obj=obj, action=action, error=None)


async def perform(request: web.Request) -> web.StreamResponse:
    ui, identity = _ui(request), _identity(request)
    namespace, name, action_name = _namespace(request), _task_name(request), _action_name(request)
    values = await request.post()
    ui.gate.check_post(request, identity, str(values.get("csrf") or ""))
    now = ui.settings.clock()
    form = ActionForm.read(action_name, values, now)
    obj: dict[str, Any] | None = None
    try:
        obj = await get_task(identity.api, namespace, name)
        action = build_action(form, obj, name, now)
        if action.patch is not None:
            await patch_task(identity.api, namespace, name, action.patch)
    except CliError as err:
        ui.directory.forget(identity)
        status = 403 if err.message.startswith("forbidden") else 409
        message = "Refused by the API server: " + err.message if status == 403 else err.message
        return await _render(request, form, obj=obj, action=None, error=message, status=status)
    notice = secrets.token_urlsafe(8)
    if len(ui.notices) >= MAX_NOTICES:
        ui.notices.pop(next(iter(ui.notices)))
    ui.notices[notice] = (identity.key, action.lines)
    raise web.HTTPSeeOther(f"/ns/{namespace}/tasks/{name}?notice={notice}")
