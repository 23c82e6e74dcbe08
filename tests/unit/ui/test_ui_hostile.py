"""Text a tenant writes (Events, status, annotations, labels, names of runs) is hostile:
every page and every live region shows it as text, never as markup or a broken link."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape
from test_ui_streams import first_update
from ui_http import Start
from ui_support import MemoryApi, task_obj

HOSTILE = """<script>alert(1)</script>" onmouseover="alert(2)' onfocus='alert(3)"""
ESCAPED = str(escape(HOSTILE))  # &lt;script&gt;... &#34; ... &#39;
RUN = "nightly-1796000000"
HOSTILE_RUN = "x/../../../all?evil=1#frag"


def hostile_task() -> dict[str, Any]:
    status = {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Scheduled", "message": HOSTILE},
            {"type": "Degraded", "status": "True", "reason": "RunFailed", "message": HOSTILE},
        ],
        "active": [{"name": HOSTILE_RUN, "kind": "Job", "scheduledTime": "2026-11-30T00:00:00Z"}],
        "history": [
            {
                "scheduledTime": "2026-11-29T03:00:00Z",
                "name": RUN,
                "trigger": "schedule",
                "result": "Failed",
                "message": HOSTILE,
            },
            {
                "scheduledTime": "2026-11-28T03:00:00Z",
                "name": HOSTILE_RUN,
                "trigger": "schedule",
                "result": "Succeeded",
            },
        ],
    }
    return task_obj("nightly", "0 3 * * *", status=status, annotations={"note": HOSTILE})


def hostile_api() -> MemoryApi:
    api = MemoryApi()
    api.put(hostile_task())
    api.put(
        {
            "kind": "Event",
            "metadata": {"name": "nightly.1", "namespace": "team"},
            "involvedObject": {"kind": "ScheduledTask", "name": "nightly", "namespace": "team"},
            "type": HOSTILE,
            "reason": HOSTILE,
            "message": HOSTILE,
            "lastTimestamp": "2026-11-29T03:00:05Z",
        }
    )
    job = f"/apis/batch/v1/namespaces/team/jobs/{RUN}"
    api.objects[job] = {
        "metadata": {
            "name": RUN,
            "namespace": "team",
            "labels": {"kron.dev/task": HOSTILE},
            "annotations": {"kron.dev/trigger": HOSTILE, "kron.dev/scheduled-time": HOSTILE},
        },
        "status": {"conditions": [{"type": "Failed", "status": "True", "message": HOSTILE}]},
    }
    return api


def assert_shown_as_text(html: str, where: str, *, at_least: int = 1) -> None:
    assert "<script>alert" not in html, where
    assert 'onmouseover="alert' not in html and "onfocus='alert" not in html, where
    assert html.count(ESCAPED) >= at_least, f"{where}: the text is not shown escaped"
    assert not [h for h in hrefs(html) if "../" in h or "?evil" in h], f"{where}: a raw path"


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


async def test_hostile_text_is_escaped_on_every_page(serve: Start) -> None:
    served = await serve(hostile_api())
    pages = {
        "/ns/team": 1,  # the state's detail, in a title attribute
        "/ns/team/tasks/nightly": 4,  # states, history message, Event reason and message
        f"/ns/team/runs/job/{RUN}": 3,  # the Job's annotations and condition message
    }
    for path, count in pages.items():
        status, page = await served.page(path)
        assert status == 200, (path, page)
        assert_shown_as_text(page, path, at_least=count)
    _, task = await served.page("/ns/team/tasks/nightly")
    encoded = "x%2F..%2F..%2F..%2Fall%3Fevil%3D1%23frag"
    assert f"/ns/team/runs/job/{encoded}" in hrefs(task)  # one path segment, still
    status, _ = await served.page(f"/ns/team/runs/job/{encoded}")
    assert status == 404  # not a run name: the link leads nowhere else


async def test_hostile_text_is_escaped_in_every_live_region(serve: Start) -> None:
    served = await serve(hostile_api())
    for path in ("/ns/team", "/ns/team/tasks/nightly"):
        _, page = await served.page(path)
        update = await first_update(served, page)
        joined = "".join(update["regions"].values())
        assert_shown_as_text(joined, f"stream of {path}")
        for name, region in update["regions"].items():
            assert "<script" not in region, (path, name)
