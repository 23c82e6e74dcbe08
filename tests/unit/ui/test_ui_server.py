"""The kron ui server's pages and actions, through HTTP, against an in-memory API server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import escape
from ui_http import NOW, Start, hidden
from ui_support import MemoryApi, task_obj

from kron.cli.actions import backfill_action, trigger_action
from kron.k8s.api import ApiError

# -- pages -----------------------------------------------------------------------------


async def test_the_list_shows_schedule_in_words_and_cron_zone_and_state(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "30 2 * * 1-5", timeZone="Europe/Berlin"))
    broken = task_obj("broken", "0 3 * * *")
    broken["spec"]["schedule"] = "61 * * * *"  # the API server would refuse it; hostile input
    api.put(broken)
    served = await serve(api)
    status, body = await served.page("/ns/team")
    assert status == 200
    assert "at 02:30 on weekdays" in body and "30 2 * * 1-5" in body
    assert "Europe/Berlin" in body
    assert 'data-name="broken"' in body and "Invalid" in body


async def test_an_unknown_task_is_a_404_page(serve: Start) -> None:
    served = await serve()
    status, body = await served.page("/ns/team/tasks/missing")
    assert status == 404 and "not found" in body


async def test_a_refused_list_shows_the_api_servers_reason(serve: Start) -> None:
    api = MemoryApi()
    api.refuse_list = ApiError(403, "Forbidden", 'User "bob" cannot list resource "scheduledtasks"')
    served = await serve(api)
    status, body = await served.page("/ns/team")
    assert status == 403
    assert "forbidden: User &#34;bob&#34; cannot list" in body


# -- actions ---------------------------------------------------------------------------


async def test_run_now_confirms_then_writes_exactly_what_kron_trigger_writes(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    before = await api.get_task("team", "nightly")
    status, page = await served.page("/ns/team/tasks/nightly/run-now")
    assert status == 200 and not api.patches  # confirming writes nothing
    token, csrf = hidden(page, "token"), hidden(page, "csrf")
    expected = trigger_action(before, "nightly", token, force=False)
    assert expected.run is not None and expected.run in page

    response = await served.post(
        "/ns/team/tasks/nightly/run-now", {"csrf": csrf, "token": token, "force": ""}
    )

    assert response.status == 303
    assert api.patches == [("team", "nightly", expected.patch)]
    status, task_page = await served.page(response.headers["Location"])
    assert f"run: {expected.run}" in task_page


async def test_a_post_from_elsewhere_or_without_the_form_token_writes_nothing(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, page = await served.page("/ns/team/tasks/nightly/run-now")
    form = {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")}
    path = "/ns/team/tasks/nightly/run-now"

    assert (await served.post(path, form, Origin="https://evil.example")).status == 403
    assert (await served.post(path, form, **{"Sec-Fetch-Site": "cross-site"})).status == 403
    assert (await served.post(path, {**form, "csrf": "forged"})).status == 403
    no_origin = await served.client.post(path, data=form, allow_redirects=False)
    assert no_origin.status == 403
    assert not api.patches


async def test_a_user_without_patch_rights_sees_why_and_the_api_servers_refusal(
    serve: Start,
) -> None:
    api = MemoryApi(may_patch=False, user="bob")
    api.patch_refusal = "is denied by policy \"<no & 'writes'>\" today"  # the API's own words
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, task_page = await served.page("/ns/team/tasks/nightly")
    assert "your rights do not include patch" in task_page
    assert 'aria-disabled="true"' in task_page
    before = await api.get_task("team", "nightly")
    reviews = sum(call.endswith("/selfsubjectaccessreviews") for _, call in api.calls)

    _, page = await served.page("/ns/team/tasks/nightly/run-now")
    response = await served.post(
        "/ns/team/tasks/nightly/run-now",
        {"csrf": hidden(page, "csrf"), "token": hidden(page, "token")},
    )

    body = await response.text()
    assert response.status == 403
    assert (None, "PATCH team/nightly") in api.calls  # it was tried: the API server decides
    said = (
        'forbidden: scheduledtasks.kron.dev "nightly" is forbidden: User "bob" ' + api.patch_refusal
    )
    assert f"Refused by the API server: {escape(said)}" in body
    assert 'id="confirm"' not in body  # no button to post it again as if nothing happened
    assert api.patches == [] and await api.get_task("team", "nightly") == before
    # The refusal drops the cached answer: the next page asks the authorizer again.
    await served.page("/ns/team/tasks/nightly")
    after = sum(call.endswith("/selfsubjectaccessreviews") for _, call in api.calls)
    assert after == reviews + 1


async def test_suspend_then_resume(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    served = await serve(api)
    _, page = await served.page("/ns/team/tasks/nightly/suspend")
    response = await served.post("/ns/team/tasks/nightly/suspend", {"csrf": hidden(page, "csrf")})
    assert response.status == 303
    assert api.patches[-1][2] == {"spec": {"suspend": True}}
    _, task_page = await served.page("/ns/team/tasks/nightly")
    assert 'id="act-resume"' in task_page and 'id="act-suspend"' not in task_page

    _, page = await served.page("/ns/team/tasks/nightly/resume")
    token = hidden(page, "token")
    await served.post(
        "/ns/team/tasks/nightly/resume", {"csrf": hidden(page, "csrf"), "token": token}
    )
    assert api.patches[-1][2] == {
        "spec": {"suspend": False},
        "metadata": {"annotations": {"kron.dev/resume": token}},
    }


async def test_backfill_reads_wall_times_in_the_tasks_zone_and_counts_ticks(
    serve: Start,
) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "0 3 * * *", timeZone="Europe/Berlin"))
    served = await serve(api)
    status, form_page = await served.page("/ns/team/tasks/nightly/backfill")
    assert status == 200 and 'type="datetime-local"' in form_page

    query = "from=2026-11-01T00:00&to=2026-11-03T00:00"
    status, page = await served.page(f"/ns/team/tasks/nightly/backfill?{query}")
    assert status == 200
    assert "covers 2 ticks" in page

    berlin = ZoneInfo("Europe/Berlin")
    expected = backfill_action(
        await api.get_task("team", "nightly"),
        "nightly",
        datetime(2026, 11, 1, tzinfo=berlin),
        datetime(2026, 11, 3, tzinfo=berlin),
        NOW,
    )
    response = await served.post(
        "/ns/team/tasks/nightly/backfill",
        {"csrf": hidden(page, "csrf"), "from": "2026-11-01T00:00", "to": "2026-11-03T00:00"},
    )
    assert response.status == 303
    assert api.patches == [("team", "nightly", expected.patch)]


async def test_a_wall_time_the_clocks_skip_is_refused_with_the_reason(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly", "0 3 * * *", timeZone="Europe/Berlin"))
    served = await serve(api)
    query = "from=2027-03-28T02:30&to=2027-03-30T00:00"  # 02:30 does not exist that night
    status, page = await served.page(f"/ns/team/tasks/nightly/backfill?{query}")
    assert status == 409
    assert "does not exist in Europe/Berlin" in page


# -- a run's page ----------------------------------------------------------------------


async def test_a_runs_page_shows_the_job_and_its_pods_or_says_it_is_gone(serve: Start) -> None:
    api = MemoryApi()
    api.put(task_obj("nightly"))
    api.objects["/apis/batch/v1/namespaces/team/jobs/nightly-1796000000"] = {
        "metadata": {
            "name": "nightly-1796000000",
            "namespace": "team",
            "labels": {"kron.dev/task": "nightly"},
            "annotations": {"kron.dev/trigger": "schedule", "kron.dev/attempt": "0"},
        },
        "status": {
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        },
    }
    api.objects["/api/v1/namespaces/team/pods/nightly-1796000000-x7"] = {
        "metadata": {"name": "nightly-1796000000-x7", "labels": {"job-name": "nightly-1796000000"}},
        "spec": {"nodeName": "node-1"},
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {"name": "main", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}
            ],
        },
    }
    served = await serve(api)
    status, page = await served.page("/ns/team/runs/job/nightly-1796000000")
    assert status == 200
    assert "BackoffLimitExceeded" in page and "nightly-1796000000-x7" in page
    assert "main: terminated, exit code 3 (Error)" in page
    assert 'href="/ns/team/tasks/nightly"' in page

    status, page = await served.page("/ns/team/runs/job/nightly-1")
    assert status == 404 and "history limits" in page
