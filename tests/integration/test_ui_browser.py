"""`kron ui` in a real browser (Debian's headless Chromium) against the real control plane.

Each test starts `python -m kron ui` with a kubeconfig, opens the address it prints,
and clicks through the pages as a person would: the tasks the test created are
listed and follow changes live, Run now creates a Job (the operator running), a
user bound only to the built-in `view` role sees the tasks and is refused Run now
by the API server, and an upcoming day with a clock change is marked.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from chart.helm import Helm, dump, of_kind
from kron.ui.calendar import zone_changes
from support.cluster import ClusterHandle
from support.operator import OperatorProcess
from support.tasks import apply, get_task, job_task
from support.ui import CHROMIUM_ENV, CHROMIUM_FLAGS, UiProcess, chromium_path
from support.wait import wait_until

TIMEOUT_MS = 20_000


# Module scope, not session: while Playwright's sync driver runs it marks an event loop
# as running in this thread, and pytest-asyncio could then not run the async tests of
# later modules.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.fail(
            "no Chromium: install Debian's package (apt-get install chromium; .ci/run does) "
            f"or name one in ${CHROMIUM_ENV}",
            pytrace=False,
        )
    launched = playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_FLAGS))
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def start_ui(
    cluster: ClusterHandle, namespace: str, crd_installed: str, tmp_path: Path
) -> Iterator[Callable[..., UiProcess]]:
    """Start `kron ui` (`start_ui()`, or `start_ui(kubeconfig=..., extra=[...])`); all
    are stopped afterwards."""
    started: list[UiProcess] = []

    def start(kubeconfig: str | None = None, extra: list[str] | None = None) -> UiProcess:
        ui = UiProcess(kubeconfig or cluster.kubeconfig, namespace, tmp_path, extra or [])
        started.append(ui)
        return ui.start()

    yield start
    for ui in started:
        ui.stop()


def _aggregated_view_role(cluster: ClusterHandle) -> Iterator[None]:
    """The chart's ClusterRoles that add ScheduledTasks to the built-in view/edit/admin."""
    assert cluster.bin_dir is not None or cluster.kubectl_binary is not None
    helm_binary = (cluster.bin_dir or Path(str(cluster.kubectl_binary)).parent) / "helm"
    helm = Helm(helm_binary, cluster.kubeconfig)
    release = f"ui{secrets.token_hex(3)}"
    roles = of_kind(helm.render({}, release=release, namespace="kron-system"), "ClusterRole")
    tenant_roles = [
        r for r in roles if r["metadata"]["name"].endswith(("-tasks-view", "-tasks-edit"))
    ]
    assert tenant_roles, "the chart renders no tenant ClusterRoles"
    cluster.kubectl("apply", "-f", "-", input=dump(tenant_roles))
    yield
    cluster.kubectl(
        "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=dump(tenant_roles)
    )


@pytest.fixture
def view_role(cluster: ClusterHandle) -> Iterator[None]:
    yield from _aggregated_view_role(cluster)


def open_ui(page: Page, ui: UiProcess, path: str) -> None:
    page.goto(ui.url)  # the printed address: sets the session cookie
    page.goto(ui.base + path)


def task_row(page: Page, name: str) -> Any:
    return page.locator(f'tr[data-name="{name}"]')


# -- the list ---------------------------------------------------------------------------


def test_the_list_shows_the_tasks_and_follows_changes_live(
    cluster: ClusterHandle, namespace: str, start_ui: Callable[..., UiProcess], page: Page
) -> None:
    apply(cluster, namespace, job_task("nightly", "30 2 * * 1-5", timeZone="Europe/Berlin"))
    apply(cluster, namespace, job_task("frequent", "*/5 * * * *"))
    ui = start_ui()

    open_ui(page, ui, f"/ns/{namespace}")

    expect(page.get_by_role("heading", level=1)).to_contain_text(namespace)
    nightly = task_row(page, "nightly")
    expect(nightly).to_contain_text("at 02:30 on weekdays")
    expect(nightly).to_contain_text("30 2 * * 1-5")
    expect(nightly).to_contain_text("Europe/Berlin")
    expect(task_row(page, "frequent")).to_contain_text("every 5 minutes")
    expect(page.locator("#live-status")).to_have_text("Live")

    # A task created after the page loaded appears without a reload (the shared watch).
    apply(cluster, namespace, job_task("late-comer", "@every 1h"))
    expect(task_row(page, "late-comer")).to_contain_text("every hour")
    cluster.kubectl("delete", "stask", "frequent", "-n", namespace)
    expect(task_row(page, "frequent")).to_have_count(0)


def test_open_tabs_share_one_watch_which_stops_when_they_close(
    cluster: ClusterHandle,
    namespace: str,
    start_ui: Callable[..., UiProcess],
    browser: Browser,
) -> None:
    apply(cluster, namespace, job_task("shared", "@every 1h"))
    ui = start_ui(extra=["--linger", "1"])
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    tabs = [context.new_page() for _ in range(3)]
    for tab in tabs:
        open_ui(tab, ui, f"/ns/{namespace}")
        expect(tab.locator("#live-status")).to_have_text("Live")

    health = ui.health()
    assert (health["feeds"], health["listeners"]) == (1, 3), health
    watches = health["watch_requests"]

    context.close()
    wait_until(
        lambda: ui.health()["feeds"] == 0,
        timeout=30,
        message="the namespace's watch stopped once no tab listens",
    )
    assert watches >= 1


def test_without_the_printed_key_the_page_is_refused(
    namespace: str, start_ui: Callable[..., UiProcess]
) -> None:
    ui = start_ui()
    status, body = ui.get(f"/ns/{namespace}")
    assert status == 401
    assert "Open the address kron ui printed" in body
    status, _ = ui.get(f"/ns/{namespace}", headers={"Host": "attacker.example:80"})
    assert status == 421


def test_each_run_has_an_address_of_its_own_and_two_keep_their_sessions(
    cluster: ClusterHandle, namespace: str, start_ui: Callable[..., UiProcess], page: Page
) -> None:
    apply(cluster, namespace, job_task("both", "@every 1h"))
    first = start_ui()
    host = str(urlsplit(first.url).hostname)
    assert host.startswith("127.") and host != "127.0.0.1", first.url  # Linux: 127/8 is lo
    # Another on the same host: browsers keep cookies per host, whatever the port.
    second = start_ui(extra=["--address", host])
    for ui in (first, second):
        page.goto(ui.url)
    for ui in (first, second, first):
        page.goto(ui.base + f"/ns/{namespace}")
        expect(task_row(page, "both")).to_contain_text("every hour")


# -- actions ----------------------------------------------------------------------------


def test_run_now_asks_for_confirmation_and_creates_a_run(
    cluster: ClusterHandle,
    namespace: str,
    operator: Callable[..., OperatorProcess],
    start_ui: Callable[..., UiProcess],
    page: Page,
) -> None:
    apply(cluster, namespace, job_task("reports", "0 3 * * *", duration="30s"))
    operator()
    ui = start_ui()
    open_ui(page, ui, f"/ns/{namespace}/tasks/reports")

    page.get_by_role("link", name="Run now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run now: reports")
    run = page.locator(".confirm li code").first.inner_text()
    assert run.startswith("reports-m")
    assert not cluster.kubectl("get", "jobs", "-n", namespace, "-o", "name").stdout.strip()

    page.get_by_role("button", name="Confirm: Run now").click()

    expect(page.locator("#notice")).to_contain_text(f"run: {run}")
    wait_until(
        lambda: cluster.kubectl("get", "job", run, "-n", namespace, check=False).returncode == 0,
        timeout=60,
        message=f"Job {run} created by the operator",
    )
    job = json.loads(cluster.kubectl("get", "job", run, "-n", namespace, "-o", "json").stdout)
    assert job["metadata"]["annotations"]["kron.dev/trigger"] == "manual"
    task = get_task(cluster, namespace, "reports")
    assert task["metadata"]["annotations"]["kron.dev/run-now"]  # what `kubectl kron trigger` sets
    # The run shows up on the page by itself (the task's status changes).
    expect(page.locator('[data-region="task-summary"]')).to_contain_text(run, timeout=60_000)


def test_a_user_with_only_the_view_role_sees_tasks_and_is_refused_run_now(
    cluster: ClusterHandle,
    namespace: str,
    view_role: None,
    start_ui: Callable[..., UiProcess],
    page: Page,
    tmp_path: Path,
) -> None:
    apply(cluster, namespace, job_task("guarded", "0 4 * * *"))
    viewer = cluster.service_account_kubeconfig(namespace, "viewer", tmp_path / "viewer.yaml")
    cluster.kubectl(
        "create", "rolebinding", "viewer-view", "--clusterrole=view",
        f"--serviceaccount={namespace}:viewer", "-n", namespace,
    )  # fmt: skip
    subject = f"system:serviceaccount:{namespace}:viewer"
    wait_until(
        lambda: cluster.kubectl(
            "auth", "can-i", "list", "scheduledtasks.kron.dev", "-n", namespace, f"--as={subject}",
            check=False,
        ).stdout.strip() == "yes",
        timeout=30,
        message="the view role to include ScheduledTasks (aggregation)",
    )  # fmt: skip
    ui = start_ui(kubeconfig=viewer)

    open_ui(page, ui, f"/ns/{namespace}")
    expect(page.locator(".who")).to_contain_text(subject)
    expect(task_row(page, "guarded")).to_contain_text("at 04:00 every day")

    task_row(page, "guarded").get_by_role("link", name="guarded").click()
    # The authorizer's answer (SelfSubjectAccessReview) turns the buttons off and says why.
    expect(page.locator("#actions-refusal")).to_contain_text("your rights do not include patch")
    run_now = page.get_by_role("link", name="Run now")
    expect(run_now).to_be_disabled()
    # And the API server itself refuses the write, should the form be posted anyway.
    page.goto(ui.base + str(run_now.get_attribute("href")))
    page.get_by_role("button", name="Confirm: Run now").click()

    refusal = page.locator("#action-error")
    expect(refusal).to_contain_text("Refused by the API server: forbidden")
    expect(refusal).to_contain_text(f'User "{subject}" cannot patch resource "scheduledtasks"')
    annotations = get_task(cluster, namespace, "guarded")["metadata"].get("annotations") or {}
    assert "kron.dev/run-now" not in annotations


def test_behind_a_proxy_each_request_acts_with_its_own_bearer_token(
    cluster: ClusterHandle,
    namespace: str,
    view_role: None,
    start_ui: Callable[..., UiProcess],
    browser: Browser,
    tmp_path: Path,
) -> None:
    apply(cluster, namespace, job_task("proxied", "@every 2h"))
    cluster.service_account_kubeconfig(namespace, "reader", tmp_path / "reader.yaml")
    cluster.kubectl(
        "create", "rolebinding", "reader-view", "--clusterrole=view",
        f"--serviceaccount={namespace}:reader", "-n", namespace,
    )  # fmt: skip
    token = cluster.kubectl("create", "token", "reader", "-n", namespace).stdout.strip()
    # The admin kubeconfig gives only the server and CA: its certificate is not used.
    ui = start_ui(extra=["--auth", "bearer"])

    status, body = ui.get(f"/ns/{namespace}")
    assert status == 401 and "No credentials" in body

    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.goto(ui.base + f"/ns/{namespace}")
    expect(tab.locator(".who")).to_contain_text(f"system:serviceaccount:{namespace}:reader")
    expect(task_row(tab, "proxied")).to_contain_text("every 2 hours")
    tab.goto(ui.base + "/ns/kube-system")
    expect(tab.locator(".problem")).to_contain_text("forbidden")
    context.close()


# -- the upcoming list ------------------------------------------------------------------


def test_a_day_on_which_the_clocks_change_is_marked_on_the_upcoming_list(
    cluster: ClusterHandle, namespace: str, start_ui: Callable[..., UiProcess], page: Page
) -> None:
    zone = "America/New_York"
    now = int(dt.datetime.now(dt.UTC).timestamp())
    change = zone_changes(zone, now, now + 400 * 86_400)[0]
    changes_on = dt.datetime.fromtimestamp(change.instant, ZoneInfo(zone)).date()
    apply(cluster, namespace, job_task("dst", "30 2 * * *", timeZone=zone))
    ui = start_ui()
    before = (changes_on - dt.timedelta(days=2)).isoformat()

    open_ui(page, ui, f"/ns/{namespace}/tasks/dst?from={before}&days=5")

    marked = page.locator(f'li.day.dst[data-date="{changes_on.isoformat()}"]')
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("DST change")
    expect(marked).to_contain_text("clocks go forward" if change.forward else "clocks go back")
    expect(page.locator("li.day.dst")).to_have_count(1)  # only that day of the five
    if change.forward:  # 02:30 does not exist that day: it fires as clocks jump, at 03:00
        expect(marked.locator(".fires")).to_contain_text("03:00")


# -- the next 24 hours ------------------------------------------------------------------


def test_the_timeline_updates_live_with_working_links_in_the_zone_asked_for(
    cluster: ClusterHandle, namespace: str, start_ui: Callable[..., UiProcess], page: Page
) -> None:
    apply(cluster, namespace, job_task("herd", "*/30 * * * *"))
    ui = start_ui()
    open_ui(page, ui, f"/ns/{namespace}/timeline?tz=Etc/GMT%2B5")
    expect(page.locator("#live-status")).to_have_text("Live")
    apply(cluster, namespace, job_task("newcomer", "0,30 * * * *"))  # joins the busiest minutes
    herds = page.locator('[data-region="herds"]')
    expect(herds.get_by_role("link", name="newcomer").first).to_be_visible()
    assert int(page.locator("body").get_attribute("data-updates") or 0) >= 1
    expect(herds.locator(".summary")).to_contain_text("(Etc/GMT+5)")  # not UTC
    herds.get_by_role("link", name="newcomer").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("newcomer")


# -- keyboard and phone -----------------------------------------------------------------


def test_the_pages_work_from_the_keyboard_and_fit_a_phone(
    cluster: ClusterHandle, namespace: str, start_ui: Callable[..., UiProcess], browser: Browser
) -> None:
    apply(cluster, namespace, job_task("a-rather-long-task-name-for-a-phone", "0 3 * * *"))
    ui = start_ui()
    phone = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    phone.set_default_timeout(TIMEOUT_MS)
    tab = phone.new_page()
    open_ui(tab, ui, f"/ns/{namespace}")

    tab.keyboard.press("Tab")
    expect(tab.locator(":focus")).to_have_text("Skip to content")
    tab.get_by_label("Filter by name").fill("long")  # every input has a label
    expect(task_row(tab, "a-rather-long-task-name-for-a-phone")).to_be_visible()
    tab.get_by_label("Filter by name").fill("nothing-matches")
    expect(task_row(tab, "a-rather-long-task-name-for-a-phone")).to_be_hidden()
    tab.get_by_label("Filter by name").fill("")
    link = tab.get_by_role("link", name="a-rather-long-task-name-for-a-phone")
    link.focus()
    tab.keyboard.press("Enter")
    expect(tab.get_by_role("heading", level=1)).to_have_text("a-rather-long-task-name-for-a-phone")

    for path in (f"/ns/{namespace}", f"/ns/{namespace}/tasks/a-rather-long-task-name-for-a-phone",
                 f"/ns/{namespace}/timeline"):  # fmt: skip
        tab.goto(ui.base + path)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
    phone.close()
