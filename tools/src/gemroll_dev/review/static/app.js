// gemroll review page: your photos (upload, verdicts, filters, delete), suggestions and their
// actions, share links, consent and the training report, through the same-origin API paths
// /api/<service>/... (the ingress in production, `gemroll-dev review` locally).
"use strict";

const API = { ingest: "/api/ingest", suggester: "/api/suggester", policy: "/api/policy" };
const TOKEN_KEY = "gemroll.token";
const $ = (id) => document.getElementById(id);

const state = {
  token: null, kind: "", previews: new Map(), thumbs: new Map(), consent: null, report: null,
  photoFilter: { verdict: "", reason: "" }, photoCursor: null,
  presignedFromBytes: 32 * 1024 * 1024,
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function problemOf(response) {
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
  return new ApiError(response.status, code, message);
}

async function api(service, path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = { ...options, body: JSON.stringify(options.json) };
  }
  const response = await fetch(API[service] + path, { ...options, headers });
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) signOut(`Your token was refused (${problem.message}).`);
    throw problem;
  }
  if (response.status === 204) return null;
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
  for (const cache of [state.previews, state.thumbs]) {
    for (const url of cache.values()) URL.revokeObjectURL(url);
    cache.clear();
  }
  state.consent = null;
  state.report = null;
  $("who").hidden = true;
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = reason || "";
}

// -- consent --------------------------------------------------------------------------------
async function loadConsent() {
  const consent = await api("policy", "/v1/consent");
  state.consent = consent;
  $("consent-camera-roll").checked = !!consent.camera_roll;
  $("consent-training-opt-out").checked = !!consent.training_opt_out;
  updateTrainingStatuses();
}

async function eraseEverything() {
  if (!window.confirm("Turn gemroll off and erase every photo, suggestion and share link? "
    + "This cannot be undone.")) return;
  try {
    await api("policy", "/v1/consent", { method: "PUT",
      json: { camera_roll: false, erase_data: true } });
    await loadConsent();
    showError(null);
    watch("photos", loadPhotoPanel);
    watch("training", loadTrainingReport);
  } catch (error) {
    showError(error);
  }
}

async function changeConsent(field, value) {
  try {
    await api("policy", "/v1/consent", { method: "PUT", json: { [field]: value } });
    await loadConsent();
    watch("training", loadTrainingReport);
  } catch (error) {
    showError(error);
  }
}

// -- your photos ----------------------------------------------------------------------------
const SIGNAL_TEXT = {
  blurry: "blurry", dark: "too dark", overexposed: "overexposed", noisy: "noisy",
  duplicate: "near-duplicate", screenshot: "screenshot", document: "document or receipt",
  nsfw: "sensitive",
};
const NEUTRAL_SIGNALS = new Set(["gem", "photo"]);
const PAGE_SIZE = 48;

function signalText(signal) {
  return SIGNAL_TEXT[signal] || signal.replace(/_/g, " ");
}

function verdictOf(classification) {
  if (!classification) return { label: "classifying…", kind: "pending", why: "" };
  if (classification.is_gem) {
    return { label: "gem", kind: "gem", why: `score ${Math.round(classification.gem_score * 100)}` };
  }
  const why = classification.signals.filter((s) => !NEUTRAL_SIGNALS.has(s)).map(signalText);
  return { label: "junk", kind: "junk", why: why.join(", ") || "low score" };
}

// Why this photo may or may not be used to train AI, from the policy's training report.
function trainingStatusOf(mediaId) {
  const rows = state.report ? state.report.items.filter((r) => r.media_id === mediaId) : [];
  const admitted = rows.find((r) => r.status === "admitted");
  if (admitted) {
    const what = admitted.source === "suggester" ? "its AI-edited copy" : "this photo";
    const actions = admitted.evidence.length === 1 ? "1 action" : `${admitted.evidence.length} actions`;
    return { state: "admitted", evidence: admitted.evidence.join(", "),
      text: `${what} may train AI: ${BASIS[admitted.basis] || admitted.basis} (${actions})` };
  }
  const retracted = rows.find((r) => r.status === "retracted");
  if (retracted) {
    return { state: "retracted", text: "not used for training: taken back "
      + `(${(retracted.retraction_reason || "retracted").replace(/_/g, " ")})` };
  }
  if (state.consent && state.consent.training_opt_out) {
    return { state: "opted_out", text: "never used for training: you opted out" };
  }
  return { state: "not_used",
    text: "not used for training: only photos you share or edit with AI can be" };
}

function updateTrainingStatuses() {
  for (const tile of $("photos").querySelectorAll("[data-testid=photo]")) {
    const status = trainingStatusOf(tile.dataset.id);
    const line = tile.querySelector("[data-testid=training-status]");
    line.textContent = status.text;
    line.title = status.evidence ? `your actions: ${status.evidence}` : "";
    tile.dataset.training = status.state;
  }
}

function describePhoto(item, verdict) {
  const when = item.captured_at || item.created_at;
  const date = when ? new Date(when).toLocaleDateString(undefined,
    { year: "numeric", month: "long", day: "numeric" }) : "unknown date";
  const why = verdict.why ? ` (${verdict.why})` : "";
  return `Photo of ${date}, ${verdict.label}${why}`;
}

// Previews need the bearer token: fetched once per photo and shown as blob: URLs.
async function loadThumb(mediaId, img) {
  if (state.thumbs.has(mediaId)) {
    img.src = state.thumbs.get(mediaId);
    return;
  }
  try {
    const response = await api("ingest", `/v1/media/${mediaId}/preview?size=320`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    state.thumbs.set(mediaId, url);
    img.src = url;
  } catch (error) {
    img.closest(".thumb").dataset.failed = error.status === 404 ? "gone" : "failed";
  }
}

function renderPhoto(item) {
  const tile = $("photo-template").content.firstElementChild.cloneNode(true);
  const verdict = verdictOf(item.classification);
  tile.dataset.id = item.media_id;
  tile.dataset.verdict = verdict.kind;
  const label = describePhoto(item, verdict);
  tile.querySelector("img").alt = label;
  const badge = tile.querySelector(".verdict");
  badge.textContent = verdict.label;
  badge.classList.add(verdict.kind);
  tile.querySelector(".why").textContent = verdict.why;
  const remove = tile.querySelector("[data-testid=delete]");
  remove.setAttribute("aria-label", `Delete: ${label}`);
  remove.addEventListener("click", () => deletePhoto(tile));
  tile.addEventListener("focus", () => rove(tile));
  loadThumb(item.media_id, tile.querySelector("img"));
  return tile;
}

function filterQuery() {
  const { verdict, reason } = state.photoFilter;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (verdict) query.set("verdict", verdict);
  if (reason) query.set("reason", reason);
  return query;
}

async function loadPhotos(more = false) {
  const query = filterQuery();
  if (more && state.photoCursor) query.set("cursor", state.photoCursor);
  const page = await api("ingest", `/v1/media?${query}`);
  const grid = $("photos");
  const focused = document.activeElement && grid.contains(document.activeElement)
    ? document.activeElement.closest("[data-testid=photo]")?.dataset.id : null;
  const tiles = page.items.map(renderPhoto);
  if (more) grid.append(...tiles); else grid.replaceChildren(...tiles);
  state.photoCursor = page.next_cursor;
  $("more-photos").hidden = !page.next_cursor;
  $("no-photos").hidden = grid.children.length > 0;
  updateTrainingStatuses();
  const keep = focused && grid.querySelector(`[data-id="${focused}"]`);
  rove(keep || grid.firstElementChild, !!keep);
}

function chip(label, count, verdict, reason) {
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.verdict = verdict;
  button.dataset.reason = reason;
  const active = state.photoFilter.verdict === verdict && state.photoFilter.reason === reason;
  button.className = active ? "active" : "";
  button.setAttribute("aria-pressed", String(active));
  button.textContent = `${label} ${count}`;
  button.addEventListener("click", () => {
    state.photoFilter = { verdict, reason };
    loadPhotoPanel().catch(showError);
  });
  return button;
}

async function loadFacets() {
  const facets = await api("ingest", "/v1/media/facets");
  $("photo-count").textContent = `(${facets.total})`;
  const chips = [chip("all", facets.total, "", ""), chip("gems", facets.gems, "gem", ""),
    chip("junk", facets.junk, "junk", "")];
  const reasons = { ...facets.junk_signals };
  const { verdict, reason } = state.photoFilter;
  if (verdict === "junk" && reason && !(reason in reasons)) reasons[reason] = 0;
  for (const [signal, count] of Object.entries(reasons)) {
    chips.push(chip(`junk: ${signalText(signal)}`, count, "junk", signal));
  }
  if (facets.unclassified || verdict === "unclassified") {
    chips.push(chip("classifying", facets.unclassified, "unclassified", ""));
  }
  $("photo-filters").replaceChildren(...chips);
  return facets;
}

async function loadPhotoPanel() {
  const [facets] = await Promise.all([loadFacets(), loadPhotos()]);
  return facets;
}

// Keep the classifier's verdicts coming in after uploads: reload until none is pending.
function watchClassification() {
  watch("photos", async () => {
    const facets = await loadPhotoPanel();
    if (!facets.unclassified) clearInterval(watchers.get("photos"));
  }, 90);
}

// -- keyboard: one tab stop for the grid, arrows inside, Delete deletes ----------------------
function rove(tile, focus = false) {
  for (const t of $("photos").children) t.tabIndex = t === tile ? 0 : -1;
  if (tile && focus) tile.focus();
}

function columns(grid) {
  const tiles = [...grid.children];
  if (!tiles.length) return 1;
  const top = tiles[0].offsetTop;
  return Math.max(1, tiles.filter((t) => t.offsetTop === top).length);
}

function onGridKey(event) {
  const grid = $("photos");
  const tile = event.target.closest("[data-testid=photo]");
  if (!tile || event.target !== tile) return;  // keys on the tile's button act on the button
  const tiles = [...grid.children];
  const at = tiles.indexOf(tile);
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(grid), ArrowUp: -columns(grid),
    Home: -at, End: tiles.length - 1 - at }[event.key];
  if (step !== undefined) {
    event.preventDefault();
    const next = tiles[Math.min(tiles.length - 1, Math.max(0, at + step))];
    rove(next, true);
  } else if (event.key === "Delete" || event.key === "Backspace") {
    event.preventDefault();
    deletePhoto(tile);
  }
}

async function deletePhoto(tile) {
  const label = tile.querySelector("img").alt;
  if (!window.confirm(`Delete this photo for good? ${label}. Its suggestions, share links and `
    + "any training use go with it.")) return;
  const next = tile.nextElementSibling || tile.previousElementSibling;
  try {
    await api("ingest", `/v1/media/${tile.dataset.id}`, { method: "DELETE" });
    const url = state.thumbs.get(tile.dataset.id);
    if (url) URL.revokeObjectURL(url);
    state.thumbs.delete(tile.dataset.id);
    tile.remove();
    rove(next, true);
    $("no-photos").hidden = $("photos").children.length > 0;
    showError(null);
    await loadFacets();
    watch("training", loadTrainingReport);
  } catch (error) {
    showError(error);
  }
}

// -- uploads: streamed with progress, one file at a time ------------------------------------
// Below `state.presignedFromBytes` through the ingest (same origin, multipart); larger files go
// straight to the object store with a presigned PUT, then the ingest validates them.

function send(method, url, body, headers, progress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      let detail = null;
      try { detail = JSON.parse(xhr.responseText).detail; } catch (_) { /* not JSON */ }
      resolve({ status: xhr.status, message: (detail && detail.message) || xhr.statusText });
    });
    xhr.addEventListener("error", () => resolve({ status: 0, message: "network error" }));
    xhr.send(body);
  });
}

async function uploadDirect(file, progress) {
  const form = new FormData();
  form.append("file", file, file.name);
  return send("POST", `${API.ingest}/v1/media`, form,
    { Authorization: `Bearer ${state.token}` }, progress);
}

async function uploadPresigned(file, progress) {
  const created = await api("ingest", "/v1/uploads", { method: "POST", json: {} });
  const put = await send("PUT", created.url, file, {}, progress);  // the URL is the credential
  if (put.status < 200 || put.status >= 300) return { status: put.status, message: put.message };
  try {
    const response = await fetch(`${API.ingest}/v1/uploads/${created.upload_id}/complete`,
      { method: "POST", headers: { Authorization: `Bearer ${state.token}` } });
    return { status: response.status,
      message: response.ok ? "" : (await problemOf(response)).message };
  } catch (error) {
    return { status: 0, message: "network error" };
  }
}

async function uploadOne(file, progress) {
  let answer;
  try {
    answer = await (file.size >= state.presignedFromBytes ? uploadPresigned : uploadDirect)(
      file, progress);
  } catch (error) {
    answer = { status: error.status || 0, message: error.message };
  }
  if (answer.status === 201) return { ok: true, text: "added" };
  if (answer.status === 200) return { ok: true, text: "already in your photos" };
  return { ok: false, text: `not added: ${answer.message}` };
}

async function uploadFiles(files) {
  const list = $("upload-progress");
  const rows = files.map((file) => {
    const li = document.createElement("li");
    li.setAttribute("data-testid", "upload");
    const name = document.createElement("span");
    name.textContent = file.name;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", `Uploading ${file.name}`);
    const outcome = document.createElement("span");
    outcome.className = "hint";
    outcome.setAttribute("data-testid", "upload-outcome");
    li.append(name, progress, outcome);
    list.append(li);
    return { file, li, progress, outcome };
  });
  for (const row of rows) {
    const result = await uploadOne(row.file, row.progress);
    row.progress.value = result.ok ? 100 : row.progress.value;
    row.outcome.textContent = ` ${result.text}`;
    row.li.dataset.outcome = result.ok ? "ok" : "refused";
  }
  await loadPhotoPanel().catch(showError);
  watchClassification();
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

// A highlight's recap movie (MP4): made by the suggester on first ask, so the first play
// may take a few seconds; fetched with the token and played from a blob: URL.
async function playRecap(suggestion, card, button) {
  button.disabled = true;
  button.textContent = "Making the recap…";
  try {
    const key = `${suggestion.id}/${suggestion.revision}/recap`;
    if (!state.previews.has(key)) {
      const response = await api("suggester", suggestion.recap_url, { raw: true });
      state.previews.set(key, URL.createObjectURL(await response.blob()));
    }
    const video = document.createElement("video");
    video.controls = true;
    video.playsInline = true;
    video.setAttribute("data-testid", "recap");
    video.setAttribute("aria-label", `Recap movie: ${suggestion.title}`);
    video.src = state.previews.get(key);
    card.querySelector(".preview").replaceChildren(video);
    button.hidden = true;
    showError(null);
  } catch (error) {
    button.disabled = false;
    button.textContent = "Play recap";
    showError(error);
  }
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
  const recap = card.querySelector("[data-testid=play-recap]");
  recap.hidden = !s.recap_url || s.status === "withdrawn";
  recap.addEventListener("click", () => playRecap(s, card, recap));
  if (FINAL.has(s.status)) card.classList.add("done");
  card.querySelector("img").alt = `Preview: ${s.title}`;
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
    watch("training", loadTrainingReport);
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
  state.report = report;
  updateTrainingStatuses();
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

// Much happens asynchronously (actions travel over Kafka to the policy service, an AI edit
// is rendered first, the classifier takes a moment): reload a part of the page for a while
// after anything that may change it.
const watchers = new Map();
function watch(name, load, seconds = 30) {
  clearInterval(watchers.get(name));
  const until = Date.now() + seconds * 1000;
  watchers.set(name, setInterval(async () => {
    if (!state.token || Date.now() > until) {
      clearInterval(watchers.get(name));
      return;
    }
    try {
      await load();
    } catch (error) {
      showError(error);
      clearInterval(watchers.get(name));
    }
  }, 1500));
}

async function refreshAll() {
  showError(null);
  const results = await Promise.allSettled([loadConsent(), loadPhotoPanel(), loadSuggestions(),
    loadShareLinks(), loadTrainingReport()]);
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
  $("erase-everything").addEventListener("click", eraseEverything);
  $("upload-input").addEventListener("change", (e) => {
    uploadFiles([...e.target.files]);
    e.target.value = "";
  });
  $("refresh-photos").addEventListener("click", () => loadPhotoPanel().catch(showError));
  $("more-photos").addEventListener("click", () => loadPhotos(true).catch(showError));
  $("photos").addEventListener("keydown", onGridKey);
  for (const button of $("filters").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      $("filters").querySelectorAll("button").forEach((b) => {
        b.classList.toggle("active", b === button);
        b.setAttribute("aria-pressed", String(b === button));
      });
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
