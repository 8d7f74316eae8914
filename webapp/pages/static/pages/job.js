// The job page: follows one clap job over its WebSocket (/ws/claps/<id>/), and polls
// the API instead where sockets do not work. Every message carries the job's seq;
// anything older than what is shown is dropped, and a final state is never left.
"use strict";

(() => {
  const root = document.getElementById("job");
  if (!root) return;
  const ref = (name) => root.querySelector(`[data-ref="${name}"]`);
  const FINAL = new Set(["done", "failed", "cancelled"]);
  const LABELS = JSON.parse(document.getElementById("status-labels").textContent);
  const POLL_MS = 2000;
  const MAX_BACKOFF_MS = 15000;
  const FAILED_CONNECTS_BEFORE_POLLING = 3;
  const OUTCOME_SECTIONS = { done: "applause", failed: "failed", cancelled: "cancelled" };
  const REFUSED = new Set([4403, 4404]);
  const TOO_MANY_SOCKETS = 4429;
  const AUDIO_RETRIES = 6; // after 1, 2, 4... 32 s: about a minute

  let state = JSON.parse(document.getElementById("job-snapshot").textContent);
  let positionLine = null;
  let failedConnects = 0;
  let backoff = 0;
  let polling = false;

  const totalOf = (job) => job.progress.total || job.claps;
  const doneOf = (job) => (job.status === "done" ? totalOf(job) : job.progress.done);

  function ordinal(n) {
    const tens = n % 100;
    const ones = n % 10;
    if (tens >= 11 && tens <= 13) return `${n}th`;
    return `${n}${{ 1: "st", 2: "nd", 3: "rd" }[ones] || "th"}`;
  }

  function log(text, at) {
    const list = ref("log");
    const item = document.createElement("li");
    const time = document.createElement("time");
    const when = at ? new Date(at * 1000) : new Date();
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString();
    item.append(time, text);
    list.append(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function showPosition(msg) {
    const text = `in line: ${ordinal(msg.position + 1)} on partition ${msg.partition}`;
    if (positionLine && positionLine === ref("log").lastElementChild) {
      if (positionLine.lastChild.textContent !== text) positionLine.lastChild.textContent = text;
    } else {
      positionLine = log(text);
    }
  }

  function setConnection(text) {
    ref("connection").textContent = text;
  }

  function render() {
    const total = totalOf(state);
    const done = Math.min(doneOf(state), total);
    const percent = total ? Math.floor((done * 100) / total) : 0;
    const status = ref("status");
    status.textContent = LABELS[state.status] || state.status;
    status.className = `badge status-${state.status}`;
    const bar = ref("bar");
    bar.max = total;
    bar.value = done;
    bar.textContent = `${percent}%`;
    const text = `${done}/${total} claps (${percent}%)`;
    if (ref("progress-text").textContent !== text) ref("progress-text").textContent = text;
    ref("applause").hidden = state.status !== "done";
    ref("failed").hidden = state.status !== "failed";
    ref("cancelled").hidden = state.status !== "cancelled";
    ref("cancel").hidden = FINAL.has(state.status);
    if (state.status === "failed") ref("error").textContent = state.error || "no reason given";
    const audio = ref("audio");
    if (state.result_url && audio.getAttribute("src") !== state.result_url) {
      audio.src = state.result_url;
    }
    const title = state.status === "done" ? "Applause!" : FINAL.has(state.status) ? LABELS[state.status] : `${percent}%`;
    document.title = `${title} · Clapstream`;
  }

  // `done` can come before the applause is stored (the server waits for it only so
  // long): the file answers 404 until then, so it is asked for again a few times.
  function retryAudio() {
    const audio = ref("audio");
    let tries = 0;
    audio.addEventListener("error", () => {
      if (!audio.getAttribute("src") || tries >= AUDIO_RETRIES) return;
      tries += 1;
      setTimeout(() => audio.load(), 1000 * 2 ** (tries - 1));
    });
  }

  function narrate(before, after, msg) {
    const at = msg && msg.at;
    const pickedUp = msg && msg.type === "status";
    if (after.status === "running" && (before.status !== "running" || pickedUp)) {
      const again = before.status === "running" ? " again" : "";
      log(`${after.worker || "a worker"} picked up your job${again}`, at);
    }
    const from = doneOf(before);
    const to = doneOf(after);
    const total = totalOf(after);
    if (to > from && after.status === "running") {
      log(to === from + 1 ? `clap ${to} of ${total}` : `claps ${from + 1}–${to} of ${total}`, at);
    }
    if (after.status === "done") log(`done: ${total} claps. Enjoy your applause!`, at);
    if (after.status === "failed") log(`failed: ${after.error || "no reason given"}`, at);
    if (after.status === "cancelled") log("cancelled", at);
  }

  function merged(msg) {
    if (msg.type === "snapshot") return { ...msg };
    const next = { ...state, status: msg.status, seq: msg.seq };
    // A status message is a pick-up: counted as the API counts them, for polling.
    if (msg.type === "status" && msg.status === "running") {
      next.attempts = msg.attempts ?? (state.attempts || 0) + 1;
    }
    for (const key of ["worker", "progress", "partition", "offset", "error", "result_url"]) {
      if (msg[key] !== undefined && msg[key] !== null && msg[key] !== "") next[key] = msg[key];
    }
    return next;
  }

  function apply(msg) {
    if (FINAL.has(state.status)) return;
    if (msg.type === "position") {
      if (state.status === "queued" && msg.seq >= state.seq) showPosition(msg);
      return;
    }
    if (msg.type === "snapshot" ? msg.seq < state.seq : msg.seq <= state.seq) return;
    const before = state;
    state = merged(msg);
    narrate(before, state, msg);
    render();
    if (FINAL.has(state.status) && !FINAL.has(before.status)) {
      const heading = ref(OUTCOME_SECTIONS[state.status]).querySelector("h2");
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  // The API's answer has no seq; the database only moves forward, so it is taken
  // unless it is behind what the socket showed before it failed. A later pick-up
  // (more attempts) starts its count again, and is not behind.
  function applyPolled(job) {
    const rank = (status) => (FINAL.has(status) ? 2 : status === "running" ? 1 : 0);
    const pickups = Math.sign((job.attempts || 0) - (state.attempts || 0));
    const behind =
      rank(job.status) < rank(state.status) ||
      (rank(job.status) === rank(state.status) &&
        (pickups < 0 || (pickups === 0 && doneOf(job) < doneOf(state))));
    if (behind) return;
    const msg = { ...job, type: pickups > 0 && job.status === "running" ? "status" : "snapshot" };
    apply({ ...msg, seq: state.seq + 1 });
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.apiUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 404) {
        setConnection("This job is gone.");
        return;
      }
      if (response.ok) applyPolled(await response.json());
    } catch {
      // Offline for a moment: the next poll tries again.
    }
    if (FINAL.has(state.status)) setConnection("");
    else setTimeout(poll, POLL_MS);
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    setConnection("Live updates are unavailable; checking every 2 seconds.");
    poll();
  }

  function connect() {
    if (!("WebSocket" in window)) {
      startPolling();
      return;
    }
    const url = new URL(root.dataset.socketPath, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      failedConnects = 0;
      setConnection("");
    });
    socket.addEventListener("message", (event) => {
      backoff = 0;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      apply(msg);
    });
    socket.addEventListener("close", (event) => reconnect(event.code, opened));
  }

  function reconnect(code, opened) {
    if (FINAL.has(state.status)) return;
    if (REFUSED.has(code)) {
      setConnection("Live updates are not available for this job.");
      return;
    }
    if (!opened) failedConnects += 1;
    if (code === TOO_MANY_SOCKETS || failedConnects >= FAILED_CONNECTS_BEFORE_POLLING) {
      startPolling();
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** backoff) * (0.75 + Math.random() / 2);
    backoff += 1;
    setConnection("Connection lost; reconnecting…");
    setTimeout(connect, delay);
  }

  function introduce() {
    const total = totalOf(state);
    if (state.status === "queued") {
      log(state.partition === null ? "accepted; waiting for Kafka" : "queued; waiting for a worker");
    } else if (state.status === "running") {
      log(`${state.worker || "a worker"} is on it: ${doneOf(state)} of ${total} claps`);
    } else {
      narrate({ ...state, status: "" }, state);
    }
  }

  introduce();
  render();
  retryAudio();
  if (!FINAL.has(state.status)) connect();
})();
