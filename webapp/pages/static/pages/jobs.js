// The home page's list of recent claps: follows them all over the owner's feed
// (/ws/claps/) and updates each status badge live, until none is left to finish.
// The feed carries only what happens after it opens, so each unfinished job is read
// from the API once it is open. Without sockets (or after GIVE_UP_AFTER handshakes
// in a row that never opened, or a refusal) the list stays as it was loaded, and says so.
"use strict";

(() => {
  const list = document.querySelector("ul.jobs");
  if (!list) return;
  const LABELS = JSON.parse(document.getElementById("status-labels").textContent);
  // A status never goes back: queued, then running, then one of the final ones.
  const RANK = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };
  const REFUSED = new Set([4403, 4429]);
  const MAX_BACKOFF_MS = 15000;
  const GIVE_UP_AFTER = 5;
  const UNAVAILABLE = "Live updates are unavailable: reload the page for the latest.";
  const connection = document.querySelector("[data-ref=connection]");
  const items = new Map([...list.querySelectorAll("li[data-job]")].map((li) => [li.dataset.job, li]));
  let backoff = 1000;
  let failedOpens = 0;

  const unfinished = () => [...items.values()].filter((li) => RANK[li.dataset.status] < 2);

  function show(id, status) {
    const li = items.get(id);
    if (!li || !(status in RANK) || RANK[status] <= RANK[li.dataset.status]) return;
    li.dataset.status = status;
    const badge = li.querySelector(".badge");
    badge.className = `badge status-${status}`;
    badge.textContent = LABELS[status];
  }

  async function catchUp() {
    for (const li of unfinished()) {
      try {
        const response = await fetch(`/api/claps/${li.dataset.job}/`, {
          headers: { Accept: "application/json" },
        });
        if (response.ok) show(li.dataset.job, (await response.json()).status);
      } catch {
        // The feed still brings the job's next change.
      }
    }
  }

  function connect() {
    if (!unfinished().length) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/claps/`);
    let opened = false;
    ws.onopen = async () => {
      opened = true;
      backoff = 1000;
      failedOpens = 0;
      await catchUp();
      // Every job may have ended before the feed opened: its socket slot is freed.
      if (!unfinished().length) ws.close(1000);
    };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      show(msg.id, msg.status);
      if (!unfinished().length) ws.close(1000);
    };
    ws.onclose = (event) => {
      if (!opened) failedOpens += 1;
      if (!unfinished().length) return;
      if (REFUSED.has(event.code) || failedOpens >= GIVE_UP_AFTER) {
        connection.textContent = UNAVAILABLE;
        return;
      }
      // Jittered: after a deploy, every open tab does not come back at the same instant.
      setTimeout(connect, backoff * (0.75 + Math.random() / 2));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
  }

  if ("WebSocket" in window) connect();
  else connection.textContent = UNAVAILABLE;
})();
