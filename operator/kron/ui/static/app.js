// kron ui: plain JavaScript, no build step. Pages work without it; with it they follow
// changes live (server-sent events from the server's shared watch) and the task list
// can be filtered by name.
"use strict";
(() => {
  const status = document.getElementById("live-status");
  const updated = document.getElementById("live-updated");
  let shown = "";
  const say = (text, state) => {
    if (!status || shown === text) return; // role=status: announce changes, not every update
    shown = text;
    status.textContent = text;
    status.dataset.state = state;
  };

  const filters = [];
  const applyFilters = () => filters.forEach((f) => f());
  document.querySelectorAll("input[data-filter]").forEach((input) => {
    const table = document.getElementById(input.dataset.filter);
    if (!table) return;
    const apply = () => {
      const wanted = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr[data-name]").forEach((row) => {
        row.hidden = wanted !== "" && !row.dataset.name.toLowerCase().includes(wanted);
      });
    };
    input.addEventListener("input", apply);
    filters.push(apply);
  });

  const notice = document.getElementById("notice");
  if (notice) notice.focus();

  const url = document.body.dataset.stream;
  if (!url || !("EventSource" in window)) return;
  const source = new EventSource(url);
  source.addEventListener("open", () => say("Live", "on"));
  source.addEventListener("error", () => say("Reconnecting…", "off"));
  source.addEventListener("update", (event) => {
    const data = JSON.parse(event.data);
    if (data.gone) {
      say(data.gone, "off");
      source.close();
      return;
    }
    say(data.live ? "Live, but: " + data.live : "Live", data.live ? "warn" : "on");
    for (const [name, html] of Object.entries(data.regions || {})) {
      const region = document.querySelector(`[data-region="${name}"]`);
      if (!region) continue;
      const active = document.activeElement;
      const focused = active && region.contains(active) && active.id ? active.id : null;
      region.innerHTML = html;
      if (focused) document.getElementById(focused)?.focus();
    }
    applyFilters();
    if (updated) updated.textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
})();
