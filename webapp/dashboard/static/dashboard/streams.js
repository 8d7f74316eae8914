// Refreshes the live part of the Streams dashboard every few seconds, without a reload.
(function () {
  "use strict";
  const live = document.getElementById("streams-live");
  if (!live) {
    return;
  }
  const url = live.dataset.liveUrl;
  const every = Number(live.dataset.refreshMs) || 5000;
  let busy = false;

  async function refresh() {
    // Not while the keyboard is on a link inside: replacing the markup would drop it.
    if (busy || document.hidden || live.contains(document.activeElement)) {
      return;
    }
    busy = true;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      // A redirect means the session ended: the login page is no fragment.
      if (!response.ok || response.redirected) {
        live.classList.add("stale");
        return;
      }
      live.innerHTML = await response.text();
      live.classList.remove("stale");
      live.dataset.updated = String(Date.now());
    } catch (error) {
      live.classList.add("stale");
    } finally {
      busy = false;
    }
  }

  window.setInterval(refresh, every);
})();
