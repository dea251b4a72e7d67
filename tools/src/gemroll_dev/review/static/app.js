// gemroll review page: suggestions, actions, consent and the training report, through the
// same-origin API paths /api/<service>/... (the ingress in production, `gemroll-dev review` locally).
"use strict";

const API = { suggester: "/api/suggester", policy: "/api/policy" };
const TOKEN_KEY = "gemroll.token";
const $ = (id) => document.getElementById(id);

const state = { token: null, kind: "", previews: new Map() };

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(service, path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = { ...options, body: JSON.stringify(options.json) };
  }
  const response = await fetch(API[service] + path, { ...options, headers });
  if (!response.ok) {
    let code = "http_error";
    let message = response.statusText;
    try {
      const detail = (await response.json()).detail;
      if (detail && typeof detail === "object" && !Array.isArray(detail)) {
        code = detail.code || code;
        message = detail.message || message;
      } else if (typeof detail === "string") {
        message = detail;
      }
    } catch (_) { /* not JSON */ }
    if (response.status === 401) signOut(`Your token was refused (${message}).`);
    throw new ApiError(response.status, code, message);
  }
  return options.raw ? response : response.json();
}

function showError(error) {
  $("error").textContent = error ? `${error.message || error}` : "";
}

// -- sign in --------------------------------------------------------------------------------
function tokenSubject(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub || null;
  } catch (_) {
    return null;
  }
}

function signIn(token) {
  token = token.trim().replace(/^Bearer\s+/i, "");
  const subject = tokenSubject(token);
  if (!subject) {
    $("login-error").textContent = "That does not look like a JWT (header.payload.signature).";
    return false;
  }
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("who-name").textContent = subject;
  $("who").hidden = false;
  $("login").hidden = true;
  $("app").hidden = false;
  $("login-error").textContent = "";
  refreshAll();
  return true;
}

function signOut(reason) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const url of state.previews.values()) URL.revokeObjectURL(url);
  state.previews.clear();
  $("who").hidden = true;
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = reason || "";
}

// -- consent --------------------------------------------------------------------------------
async function loadConsent() {
  const consent = await api("policy", "/v1/consent");
  $("consent-camera-roll").checked = !!consent.camera_roll;
  $("consent-training-opt-out").checked = !!consent.training_opt_out;
}

async function changeConsent(field, value) {
  try {
    await api("policy", "/v1/consent", { method: "PUT", json: { [field]: value } });
    await loadConsent();
    watchTrainingReport();
  } catch (error) {
    showError(error);
  }
}

// -- suggestions ----------------------------------------------------------------------------
// Previews need the bearer token, so they are fetched and shown as blob: URLs (cached per
// suggestion revision).
async function loadPreview(suggestion, img) {
  if (!suggestion.preview_url) {
    img.alt = "no preview yet";
    return;
  }
  const key = `${suggestion.id}/${suggestion.revision}`;
  if (state.previews.has(key)) {
    img.src = state.previews.get(key);
    return;
  }
  try {
    const response = await api("suggester", suggestion.preview_url, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    state.previews.set(key, url);
    img.src = url;
  } catch (error) {
    img.alt = error.status === 404 ? "no preview" : `preview failed: ${error.message}`;
  }
}

const FINAL = new Set(["dismissed", "withdrawn"]);

// Mirrors the suggester's rules (domain/actions.py); the service has the last word (409).
function allowed(s, action) {
  // Taking a share back is always possible once shared (also when withdrawn).
  if (action === "unshare") return s.actions.includes("share");
  if (FINAL.has(s.status) || s.actions.includes(action)) return false;
  if (action === "dismiss") return s.status === "proposed";
  if (action === "share") return s.shareable;
  if (action === "edit") return s.kind === "edit";
  return true;
}

function describe(s) {
  const photos = s.media_ids.length === 1 ? "1 photo" : `${s.media_ids.length} photos`;
  const when = new Date(s.created_at).toLocaleString();
  return `${photos} · suggested ${when}`;
}

function renderCard(s) {
  const card = $("card-template").content.firstElementChild.cloneNode(true);
  card.dataset.id = s.id;
  card.dataset.kind = s.kind;
  card.querySelector(".kind").textContent = s.occasion === "on_this_day" ? "on this day" : s.kind;
  const status = card.querySelector(".status");
  status.textContent = s.status;
  status.className = `status ${s.status}`;
  card.querySelector(".title").textContent = s.title;
  card.querySelector(".detail").textContent = describe(s);
  for (const button of card.querySelectorAll("[data-action]")) {
    const action = button.dataset.action;
    button.hidden = (action === "edit" && s.kind !== "edit")
      || (action === "unshare" && !s.actions.includes("share"));
    button.disabled = !allowed(s, action);
    if (s.actions.includes(action)) button.classList.add("taken");
    button.addEventListener("click", () => act(s, action, card));
  }
  if (FINAL.has(s.status)) card.classList.add("done");
  loadPreview(s, card.querySelector("img"));
  return card;
}

async function loadSuggestions() {
  const query = state.kind ? `?kind=${encodeURIComponent(state.kind)}` : "";
  const list = [];
  let cursor = null;
  do {
    const sep = query ? "&" : "?";
    const page = await api("suggester",
      `/v1/suggestions${query}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ""}`);
    list.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  const container = $("suggestions");
  container.replaceChildren(...list.map(renderCard));
  $("suggestion-count").textContent = `(${list.length})`;
  $("no-suggestions").hidden = list.length > 0;
}

async function act(suggestion, action, card) {
  const buttons = card.querySelectorAll("[data-action]");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const updated = await api("suggester", `/v1/suggestions/${suggestion.id}/actions`,
      { method: "POST", json: { action } });
    card.replaceWith(renderCard(updated.suggestion));
    showError(null);
    if (action === "share" || action === "unshare") await loadShareLinks();
    watchTrainingReport();
  } catch (error) {
    showError(error);
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// -- share links ----------------------------------------------------------------------------
async function loadShareLinks() {
  const { items } = await api("suggester", "/v1/share-links");
  const list = $("share-links");
  list.replaceChildren(...items.map((link) => {
    const li = document.createElement("li");
    li.setAttribute("data-testid", "share-link");
    li.dataset.suggestion = link.suggestion_id;
    const a = document.createElement("a");
    a.href = new URL(link.url, window.location.origin).href;
    a.textContent = link.title;
    a.target = "_blank";
    a.rel = "noreferrer noopener";
    const until = document.createElement("span");
    until.className = "hint";
    until.textContent = ` ${link.kind} · open until ${new Date(link.expires_at).toLocaleDateString()}`;
    li.append(a, until);
    return li;
  }));
  $("no-share-links").hidden = items.length > 0;
}

// -- training report ------------------------------------------------------------------------
const BASIS = { shared: "you shared it", edited_with_ai: "you edited it with AI" };

function reportRows(report) {
  return report.items.map((row) => ({
    media_id: row.media_id,
    what: row.source === "suggester" ? "AI-edited copy" : "photo",
    state: row.status,
    why: row.status === "retracted"
      ? `${BASIS[row.basis] || row.basis}; retracted: ${(row.retraction_reason || "").replace(/_/g, " ")}`
      : BASIS[row.basis] || row.basis,
    at: row.retracted_at || row.admitted_at,
  }));
}

async function loadTrainingReport() {
  const report = await api("policy", "/v1/me/training-report");
  const rows = reportRows(report);
  const container = $("training");
  if (!rows.length) {
    container.innerHTML = '<p class="empty" data-testid="training-empty">Nothing of yours is '
      + "used for training. Sharing a photo or editing it with AI makes it eligible.</p>";
  } else {
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th>photo</th><th>what</th><th>state</th><th>why</th>"
      + "<th>when</th></tr></thead>";
    const body = document.createElement("tbody");
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.setAttribute("data-testid", "training-row");
      tr.dataset.state = row.state;
      const cells = [row.media_id, row.what, row.state, row.why, new Date(row.at).toLocaleString()];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        if (i === 0) {
          const code = document.createElement("code");
          code.textContent = String(text).slice(0, 8);
          code.title = text;
          td.append(code);
        } else if (i === 2) {
          const badge = document.createElement("span");
          badge.className = `badge ${text}`;
          badge.textContent = text;
          td.append(badge);
        } else {
          td.textContent = text;
        }
        tr.append(td);
      });
      body.append(tr);
    }
    table.append(body);
    container.replaceChildren(table);
  }
}

// Decisions are made asynchronously (actions travel over Kafka to the policy service, and an
// AI edit is rendered first): refresh the report for a while after anything that may change it.
let watchTimer = null;
function watchTrainingReport(seconds = 30) {
  clearInterval(watchTimer);
  const until = Date.now() + seconds * 1000;
  watchTimer = setInterval(async () => {
    if (!state.token || Date.now() > until) {
      clearInterval(watchTimer);
      return;
    }
    try {
      await loadTrainingReport();
    } catch (error) {
      showError(error);
      clearInterval(watchTimer);
    }
  }, 1500);
}

async function refreshAll() {
  showError(null);
  const results = await Promise.allSettled([loadConsent(), loadSuggestions(), loadShareLinks(),
    loadTrainingReport()]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) showError(failed.reason);
}

// -- wiring ---------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("refresh").addEventListener("click", refreshAll);
  $("consent-camera-roll").addEventListener("change", (e) => changeConsent("camera_roll", e.target.checked));
  $("consent-training-opt-out").addEventListener("change",
    (e) => changeConsent("training_opt_out", e.target.checked));
  for (const button of $("filters").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      $("filters").querySelectorAll("button").forEach((b) => b.classList.remove("active"));
      button.classList.add("active");
      state.kind = button.dataset.kind;
      loadSuggestions().catch(showError);
    });
  }
  // `gemroll-dev review --user U` opens /#token=...: take it, then drop it from the address bar.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) history.replaceState(null, "", location.pathname);
  const saved = fromHash || sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
});
