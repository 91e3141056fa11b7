"use strict";
// The staff console. Data only through /staff/api; live changes through /staff/api/live.
// Everything citizens wrote is shown with textContent, never as HTML.

const state = {
  csrf: null,
  me: null,
  outcomes: [],
  current: null,       // conversation id shown
  detail: null,        // last GET /staff/api/conversations/{id}
  shownSeq: 0,
  socket: null,
  retry: 500,
  reloadTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function flash(message) {
  const box = $("flash");
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = state.csrf || "";
  }
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  if (response.status === 401) {
    window.location.assign("/staff/login");
    throw new Error("not-authenticated");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error ? data.error.message : "Fehler " + response.status);
    error.code = data.error ? data.error.code : "http-" + response.status;
    throw error;
  }
  return data;
}

function since(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 90) return Math.round(seconds) + " s";
  if (seconds < 5400) return Math.round(seconds / 60) + " min";
  return (seconds / 3600).toFixed(1).replace(".", ",") + " h";
}

function localTime(iso) {
  return iso ? new Date(iso).toLocaleString("de-DE", {dateStyle: "short", timeStyle: "short"}) : "";
}

const STATUS = {queued: "wartet", assigned: "in Bearbeitung", bot: "beim Assistenten",
                closed: "abgeschlossen", callback_requested: "Rückruf angefordert",
                open: "offen", claimed: "in Bearbeitung", done: "erledigt"};
const ROLE = {citizen: "Bürger/in", bot: "Assistent", staff: "Service-Team", system: "System"};

// -- queue and tickets --------------------------------------------------------------------------
async function loadQueue() {
  const data = await api("GET", "/staff/api/queue");
  const list = $("queue");
  list.replaceChildren();
  for (const entry of data.queue) {
    const item = el("li", null, {"data-testid": "queue-item", "data-conversation": entry.conversation_id,
                                 "data-status": entry.status});
    if (entry.conversation_id === state.current) item.classList.add("selected");
    const button = el("button", null, {type: "button"});
    const title = entry.channel === "voice" ? "☎ Anruf" : "💬 Chat";
    button.append(el("strong", `${title} · ${STATUS[entry.status] || entry.status}`),
                  el("span", entry.assigned_to ? ` (${entry.assigned_to})` : ` · Platz ${entry.position}`),
                  el("span", ` · seit ${since(entry.waiting_since)}`, {class: "wait",
                                                                       "data-since": entry.waiting_since}),
                  el("p", entry.summary || entry.reason, {class: "summary"}),
                  el("p", entry.last_citizen_text, {class: "last"}));
    button.addEventListener("click", () => openConversation(entry.conversation_id));
    item.append(button);
    list.append(item);
  }
  $("queue-count").textContent = String(data.queue.filter((e) => e.status === "queued").length);
  renderTickets(data.tickets);
  $("online").textContent = data.staff_online.join(", ");
}

function renderTickets(tickets) {
  const list = $("tickets");
  list.replaceChildren();
  for (const t of tickets) {
    const item = el("li", null, {"data-testid": "ticket-item", "data-ticket": String(t.id),
                                 "data-status": t.status});
    if (t.overdue) item.classList.add("overdue");
    item.append(el("strong", `#${t.id} · ${STATUS[t.status] || t.status}${t.overdue ? " · ÜBERFÄLLIG" : ""}`),
                el("span", ` · fällig ${localTime(t.due_at)}`),
                el("p", `${t.name} · ${[t.phone, t.email].filter(Boolean).join(" · ")}`),
                el("p", t.summary, {class: "summary"}));
    const claim = el("button", t.status === "open" ? "Bearbeiten" : "Freigeben", {type: "button"});
    claim.addEventListener("click", () => act(() => api("POST", `/staff/api/tickets/${t.id}/${
      t.status === "open" ? "claim" : "release"}`)));
    const done = el("button", "Erledigt", {type: "button"});
    done.addEventListener("click", () => act(() => api("POST", `/staff/api/tickets/${t.id}/close`,
                                                        {outcome: "called_back"})));
    item.append(claim, done);
    list.append(item);
  }
  $("ticket-count").textContent = String(tickets.length);
}

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => {
    loadQueue().catch((err) => flash(err.message));
    if (state.current) refreshConversation().catch(() => {});
  }, 100);
}

// -- one conversation ---------------------------------------------------------------------------
async function openConversation(id) {
  state.current = id;
  state.shownSeq = 0;
  $("transcript").replaceChildren();
  $("suggestions").replaceChildren();
  send({type: "watch", conversation_id: id});
  await refreshConversation();
  for (const item of document.querySelectorAll("#queue li")) {
    item.classList.toggle("selected", item.dataset.conversation === id);
  }
}

async function refreshConversation() {
  const id = state.current;
  const data = await api("GET", `/staff/api/conversations/${encodeURIComponent(id)}`);
  if (id !== state.current) return;
  state.detail = data;
  const c = data.conversation;
  $("conversation").hidden = false;
  $("conversation").dataset.conversation = c.id;
  $("conversation").dataset.status = c.status;
  $("conv-title").textContent = (c.channel === "voice" ? "Anruf " : "Chat ") + c.id;
  $("conv-reason").textContent = c.reason || "";
  $("conv-summary").textContent = c.summary || "";
  $("conv-services").textContent = (c.services || []).join(", ");
  $("conv-aspect").textContent = c.aspect || "";
  $("conv-channel").textContent = c.channel;
  $("conv-waiting").textContent = c.waiting_since ? `${since(c.waiting_since)} (Platz ${c.position || "–"})` : "";
  $("conv-status").textContent = (STATUS[c.status] || c.status) +
    (c.assigned_to ? ` – ${c.assigned_to_name || c.assigned_to}` : "");
  $("claim").hidden = !data.actions.claim;
  $("transfer").hidden = !data.actions.transfer_call;
  for (const id of ["release-bot", "release-queue", "close", "outcome"]) $(id).hidden = !data.actions.release;
  $("composer").hidden = !data.actions.write;
  for (const message of data.messages) showMessage(message);
  const audit = $("audit");
  audit.replaceChildren(...data.audit.map((a) => el("li", `${localTime(a.at)} · ${a.actor} · ${a.action}`)));
}

function showMessage(message) {
  if (message.seq <= state.shownSeq) return;
  state.shownSeq = message.seq;
  const item = el("li", null, {class: `msg ${message.role}`, "data-testid": "message",
                               "data-role": message.role, "data-seq": String(message.seq)});
  item.append(el("span", ROLE[message.role] || message.role, {class: "role"}),
              el("p", message.text));
  $("transcript").append(item);
  item.scrollIntoView({block: "nearest"});
}

async function act(fn) {
  flash("");
  try {
    await fn();
  } catch (err) {
    flash(err.message);
  }
  scheduleReload();
}

function insertText(text) {
  const box = $("text");
  box.value = box.value ? `${box.value} ${text}` : text;
  box.focus();
}

async function loadSuggestions() {
  const data = await api("GET", `/staff/api/conversations/${encodeURIComponent(state.current)}/suggestions`);
  const list = $("suggestions");
  list.replaceChildren();
  if (!data.available) list.append(el("li", "Der Assistent ist gerade nicht erreichbar."));
  for (const s of data.suggestions) {
    const item = el("li", null, {"data-testid": "suggestion"});
    const use = el("button", "Einfügen", {type: "button"});
    use.addEventListener("click", () => insertText(s.text));
    item.append(el("p", s.text), use);
    list.append(item);
  }
  if (data.available && !data.suggestions.length) list.append(el("li", "Keine Vorschläge."));
}

// -- live socket --------------------------------------------------------------------------------
function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/staff/api/live`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.retry = 500;
    $("connection").textContent = "live";
    $("connection").dataset.state = "live";
    if (state.current) send({type: "watch", conversation_id: state.current});
    scheduleReload();
  });
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "conversation.message" && frame.conversation_id === state.current) {
      showMessage(frame.message);
    } else if (frame.type === "queue.changed" || frame.type === "ticket.changed" || frame.type === "resync") {
      scheduleReload();
    } else if (frame.type === "staff.presence" || frame.type === "hello") {
      $("online").textContent = (frame.online || frame.staff_online || []).join(", ");
    } else if (frame.type === "error" && frame.code === "not-authenticated") {
      window.location.assign("/staff/login");
    }
  });
  socket.addEventListener("close", () => {
    $("connection").textContent = "getrennt – verbinde neu …";
    $("connection").dataset.state = "offline";
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 4000);
  });
}

// -- supervisor view ----------------------------------------------------------------------------
async function loadStats() {
  const s = await api("GET", "/staff/api/stats?days=7");
  const pct = (x) => (x === null ? "–" : (100 * x).toFixed(1).replace(".", ",") + " %");
  const secs = (x) => (x === null || x === undefined ? "–" : since(new Date(Date.now() - x * 1000).toISOString()));
  const rows = [
    ["Wartend", s.queue.waiting, "stat-waiting"],
    ["In Bearbeitung", s.queue.assigned, "stat-assigned"],
    ["Längste Wartezeit", secs(s.queue.longest_wait_seconds), "stat-longest"],
    ["Gespräche", s.conversations, "stat-conversations"],
    ["Übergaberate", pct(s.handoff_rate), "stat-handoff-rate"],
    ["Automatisierungsquote (Containment)", pct(s.containment_rate), "stat-containment"],
    ["Wartezeit bis Übernahme (Median)", secs(s.wait_to_claim_seconds.median), "stat-wait-median"],
    ["Bewertung (Durchschnitt)", s.rating.average === null ? "–" : String(s.rating.average), "stat-rating"],
    ["Offene Tickets", s.tickets.open, "stat-open-tickets"],
    ["Überfällige Tickets", s.tickets.overdue.length, "stat-overdue"],
  ];
  const list = $("stats");
  list.replaceChildren();
  for (const [label, value, testid] of rows) list.append(el("dt", label), el("dd", String(value), {"data-testid": testid}));
  $("stats-overdue").replaceChildren(...s.tickets.overdue.map((t) =>
    el("li", `#${t.id} fällig ${localTime(t.due_at)} · ${t.summary || ""}`)));
  $("stats-gaps").replaceChildren(...s.gaps.map((g) =>
    el("li", `${g.count}× „${g.question}“${g.services.length ? " · " + g.services.join(", ") : ""}`,
       {"data-testid": "gap"})));
}

function showTab(name) {
  $("view-queue").hidden = name !== "queue";
  $("view-stats").hidden = name !== "stats";
  $("tab-queue").classList.toggle("active", name === "queue");
  $("tab-stats").classList.toggle("active", name === "stats");
  if (name === "stats") loadStats().catch((err) => flash(err.message));
}

// -- start --------------------------------------------------------------------------------------
async function start() {
  const me = await api("GET", "/staff/api/me");
  state.csrf = me.csrf_token;
  state.me = me.staff;
  $("me").textContent = `${me.staff.display_name} (${me.staff.role === "supervisor" ? "Teamleitung" : "Service-Team"})`;
  $("tab-stats").hidden = me.staff.role !== "supervisor";
  $("outcome").replaceChildren(...me.outcomes.map((o) => el("option", o.label, {value: o.code})));
  $("canned").replaceChildren(...me.canned.map((c) => {
    const item = el("li", null, {"data-testid": "canned"});
    const use = el("button", c.title, {type: "button", title: c.text});
    use.addEventListener("click", () => insertText(c.text));
    item.append(use);
    return item;
  }));
  $("claim").addEventListener("click", () => act(() =>
    api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/claim`)));
  $("transfer").addEventListener("click", () => act(() =>
    api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/transfer`)));
  $("release-bot").addEventListener("click", () => act(() =>
    api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/release`, {to: "bot"})));
  $("release-queue").addEventListener("click", () => act(() =>
    api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/release`, {to: "queue"})));
  $("close").addEventListener("click", () => act(() =>
    api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/close`,
        {outcome: $("outcome").value})));
  $("load-suggestions").addEventListener("click", () => loadSuggestions().catch((err) => flash(err.message)));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    act(async () => {
      const data = await api("POST", `/staff/api/conversations/${encodeURIComponent(state.current)}/messages`, {text});
      $("text").value = "";
      showMessage(data.message);
    });
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "/staff/api/logout").catch(() => {});
    window.location.assign("/staff/login");
  });
  $("tab-queue").addEventListener("click", () => showTab("queue"));
  $("tab-stats").addEventListener("click", () => showTab("stats"));
  setInterval(() => send({type: "ping"}), 25000);
  setInterval(() => {
    for (const node of document.querySelectorAll(".wait[data-since]")) node.textContent = ` · seit ${since(node.dataset.since)}`;
  }, 5000);
  connect();
  await loadQueue();
}

start().catch((err) => flash(err.message));
