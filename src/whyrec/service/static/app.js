// The whyrec chat page: pick a user and an item, ask, read checked claims with their evidence.
// Everything from the server (reviews, messages, ids) reaches the DOM through textContent or text nodes only.
"use strict";

const TOKEN_KEY = "whyrec.token";
const WHOSE = { seller: "The seller’s listing", reviewer: "Another reviewer", user: "Your history", whyrec: "Counted by whyrec" };
const STATUS_HELP = {
  ok: "Every claim the model wrote was supported by the evidence.",
  partial: "Some claims were rejected by the checker and left out.",
  abstained: "Nothing could be said that the evidence supports.",
};
// Feather's thumbs-up outline (MIT); thumbs down is the same icon turned over in CSS.
const THUMB_PATH = "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3";

const $ = (id) => document.getElementById(id);
const state = { userId: null, itemId: null, sessionId: null, titles: new Map(), history: new Map(), busy: false };
let userTicket = 0; // the latest user choice; answers to earlier ones are dropped

/** An element with attributes, `class`, `text` (as textContent) and `on<event>` handlers, and child nodes. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

// --- the API -------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function send(path, body, accept = "application/json") {
  const headers = { Accept: accept };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { headers };
  if (body !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "cannot reach the server");
  }
  if (response.ok) return response;
  const data = await response.json().catch(() => null);
  if (response.status === 401) askForToken(Boolean(token));
  const error = data?.error ?? {};
  throw new ApiError(response.status, error.code ?? "http_error", error.message ?? `HTTP ${response.status}`);
}

async function api(path, body) {
  return (await send(path, body)).json();
}

/** POST to a server-sent-events endpoint: `onStage(name)` for each `stage` event, `onClaim({text, cites})` for each
 * checked claim told early; resolves with the `answer`. */
async function stream(path, body, onStage, onClaim) {
  const response = await send(path, body, "text/event-stream");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError(0, "network", "the answer stream ended early");
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)]));
      const data = JSON.parse(fields.data);
      if (fields.event === "stage") onStage(data.stage);
      else if (fields.event === "claim") onClaim(data);
      else if (fields.event === "answer") return data;
      else if (fields.event === "error") throw new ApiError(200, data.code, data.message);
    }
  }
}

const STAGES = {
  retrieve: "Finding the evidence…",
  generate: "The model is writing…",
  check: "Checking each claim against its evidence…",
  repair: "Asking the model again about the rejected claims…",
};

function askForToken(wasWrong) {
  $("token-form").hidden = false;
  $("token").focus();
  const waiting = $("log").querySelector(".empty");
  if (waiting) waiting.textContent = "Enter the access token to start.";
  showError(wasWrong ? "That token was not accepted; try another." : "This server needs an access token.");
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function guarded(task) {
  try {
    await task();
  } catch (error) {
    if (error.status !== 401) showError(error.message);
  }
}

// --- choosing a user and an item -----------------------------------------------------------------------------

async function loadUsers() {
  const { users, total } = await api("/v1/users?limit=1000");
  const select = $("user");
  select.replaceChildren(...users.map((id) => el("option", { value: id, text: id })));
  select.disabled = false;
  $("user-hint").textContent =
    total > users.length ? `The ${users.length} most active of ${total} users.` : `${total} users, most active first.`;
  await chooseUser(select.value);
}

function itemGroup(label, items) {
  return el("optgroup", { label }, ...items.map((item) => el("option", { value: item.item_id, text: item.title })));
}

async function chooseUser(userId) {
  const ticket = ++userTicket;
  const select = $("item");
  select.disabled = true;
  state.userId = userId;
  state.itemId = null;
  newChat();
  const view = await api(`/v1/users/${encodeURIComponent(userId)}`);
  if (ticket !== userTicket) return;
  state.titles = new Map([...view.items, ...view.history].map((item) => [item.item_id, item.title]));
  state.history = new Map(view.history.map((item) => [item.item_id, item.rating]));
  select.replaceChildren(itemGroup("Suggested items", view.items), itemGroup("In their history", view.history));
  select.disabled = false;
  $("aspects").textContent = view.aspects.length ? `Writes about: ${view.aspects.join(", ")}.` : "";
  chooseItem(select.value);
}

function chooseItem(itemId) {
  const changed = state.itemId !== null && state.itemId !== itemId;
  state.itemId = itemId;
  const rating = state.history.get(itemId);
  const where = state.history.has(itemId) ? ` · in their history${rating == null ? "" : `, rated ${rating}/5`}` : "";
  $("item-hint").replaceChildren(el("span", { class: "block", text: titleOf(itemId) }), `${itemId}${where}`);
  // The session carries on: the next message names the new item and the server moves the chat to it.
  if (changed && state.sessionId) log(el("p", { class: "divider", text: `Now asking about ${titleOf(itemId)}` }));
}

function newChat() {
  state.sessionId = null;
  $("log").replaceChildren(
    el("p", { class: "empty", text: "Pick a user and an item, then ask “Why was this recommended to me?”" }),
  );
  closeEvidence();
  showPreferences(null);
}

function titleOf(itemId, evidence = []) {
  const title = evidence.find((unit) => unit.item_id === itemId && unit.field === "title");
  return state.titles.get(itemId) ?? title?.text ?? itemId;
}

// --- asking --------------------------------------------------------------------------------------------------

function log(node) {
  const box = $("log");
  box.querySelector(".empty")?.remove();
  box.append(node);
  box.scrollTop = box.scrollHeight;
}

function setBusy(busy) {
  state.busy = busy;
  $("log").setAttribute("aria-busy", String(busy));
  for (const button of document.querySelectorAll("#ask, .chip")) button.disabled = busy;
}

async function ask(text) {
  const message = text.trim();
  if (!message || state.busy || !state.userId || !state.itemId) return;
  setBusy(true);
  log(el("div", { class: "turn mine" }, el("p", { class: "bubble", text: message })));
  // The stage being run, and below it each claim the checker has accepted so far (as text: never markup).
  const status = el("p", { class: "status", text: STAGES.retrieve });
  const early = el("ul", { class: "early" });
  const pending = el("div", { class: "turn pending" }, status, early);
  log(pending);
  try {
    const answer = await chat(
      message,
      (stage) => {
        status.textContent = STAGES[stage] ?? status.textContent;
      },
      (claim) => {
        early.append(el("li", { class: "early-claim", text: claim.text }));
        $("log").scrollTop = $("log").scrollHeight;
      },
    );
    state.sessionId = answer.session_id;
    pending.replaceWith(renderAnswer(answer));
    showPreferences(answer.preferences);
  } catch (error) {
    const failed = el("article", { class: "answer failed" }, el("p", { text: `No answer: ${error.message}` }));
    pending.replaceWith(el("div", { class: "turn" }, failed));
  } finally {
    setBusy(false);
    $("log").scrollTop = $("log").scrollHeight;
  }
}

async function chat(message, onStage, onClaim) {
  const fresh = { message, user_id: state.userId, item_id: state.itemId };
  if (!state.sessionId) return stream("/v1/chat/stream", fresh, onStage, onClaim);
  try {
    const follow = { message, session_id: state.sessionId, item_id: state.itemId };
    return await stream("/v1/chat/stream", follow, onStage, onClaim);
  } catch (error) {
    if (error.status !== 404) throw error;
    state.sessionId = null; // the server no longer knows the session (a restart): start another
    return stream("/v1/chat/stream", fresh, onStage, onClaim);
  }
}

// --- an answer -----------------------------------------------------------------------------------------------

/** Citation markers numbered across one answer, in order of first citation. */
class Citations {
  constructor() {
    this.numbers = new Map();
  }

  marker(id, unit, span = null, claim = null, verdict = null) {
    if (!this.numbers.has(id)) this.numbers.set(id, this.numbers.size + 1);
    const number = this.numbers.get(id);
    const button = el("button", {
      type: "button",
      class: "cite",
      "aria-pressed": "false",
      "aria-controls": "evidence",
      "aria-label": `Evidence ${number}: ${unit ? WHOSE[unit.speaker] : id}`,
      text: `[${number}]`,
    });
    button.addEventListener("click", () => showEvidence(button, { number, id, unit, span, claim, verdict }));
    return button;
  }
}

function badge(text, kind, help) {
  return el("span", { class: `badge ${kind}`, title: help, text });
}

function renderAnswer(answer) {
  const cites = new Citations();
  const card = el("article", { class: "answer", "aria-label": `Answer ${answer.turn}` });
  if (answer.note) card.append(el("p", { class: "note", text: answer.note }));
  const titled = answer.explanations.length > 1;
  for (const explanation of answer.explanations) card.append(renderExplanation(explanation, titled, cites));
  if (!answer.note && !answer.explanations.length) card.append(el("p", { text: answer.text }));
  if (answer.comparison.length) card.append(renderComparison(answer, cites));
  if (answer.sources.length) card.append(renderSources(answer.sources, cites));
  card.append(renderFeedback(answer));
  return el("div", { class: "turn" }, card);
}

function renderExplanation(explanation, titled, cites) {
  const units = new Map(explanation.evidence.map((unit) => [unit.id, unit]));
  const accepted = explanation.verdicts.filter((verdict) => verdict.label === "supported");
  const head = el("div", { class: "explanation-head" });
  const title = titled ? titleOf(explanation.item_id, explanation.evidence) : "Checked reason";
  head.append(el("h3", { class: titled ? null : "quiet", text: title }));
  head.append(badge(explanation.status, `status-${explanation.status}`, STATUS_HELP[explanation.status]));

  const claims = el("ul", { class: "claims" });
  for (const claim of explanation.claims) {
    const verdict = accepted.find((v) => v.claim.text === claim.text) ?? null;
    const line = el("li", { class: "claim" }, el("span", { text: claim.text }));
    for (const id of claim.cites) {
      const span = verdict?.evidence_spans.find((s) => s.unit_id === id) ?? null;
      line.append(" ", cites.marker(id, units.get(id), span, claim, verdict));
    }
    if (verdict) line.append(" ", badge(`${verdict.label} · ${verdict.rule}`, "verdict-ok", verdict.detail));
    claims.append(line);
  }
  const section = el("section", { class: "explanation" }, head);
  section.append(explanation.claims.length ? claims : el("p", { class: "reason", text: explanation.reason }));
  if (explanation.fallback) section.append(el("p", { class: "hint", text: `Fallback reason: ${explanation.fallback}` }));

  const rejected = explanation.verdicts.filter((verdict) => verdict.label !== "supported");
  if (rejected.length) {
    const items = rejected.map((v) =>
      el(
        "li",
        {},
        el("span", { class: "struck", text: v.claim.text }),
        " ",
        badge(`${v.label} · ${v.rule}`, "verdict-bad", `draft ${v.attempt}`),
        v.detail ? el("span", { class: "hint block", text: v.detail }) : null,
      ),
    );
    const summary = `Checker rejected ${rejected.length} claim${rejected.length === 1 ? "" : "s"}`;
    section.append(el("details", { class: "rejected" }, el("summary", { text: summary }), el("ul", {}, ...items)));
  }
  return section;
}

function renderComparison(answer, cites) {
  const units = answer.comparison.flatMap((pair) => [pair.this, pair.other]).filter(Boolean);
  const otherId = answer.comparison.find((pair) => pair.other)?.other.item_id;
  const cell = (unit) => (unit ? el("td", {}, unit.text, " ", cites.marker(unit.id, unit)) : el("td", { text: "—" }));
  const rows = answer.comparison.map((pair) =>
    el("tr", {}, el("th", { scope: "row", text: pair.field }), cell(pair.this), cell(pair.other)),
  );
  const head = el(
    "tr",
    {},
    el("th", { scope: "col", text: "Field" }),
    el("th", { scope: "col", text: titleOf(answer.item_id, units) }),
    el("th", { scope: "col", text: otherId ? titleOf(otherId, units) : "Other item" }),
  );
  return el(
    "table",
    { class: "comparison" },
    el("caption", { text: "Side by side, from each seller’s listing" }),
    el("thead", {}, head),
    el("tbody", {}, ...rows),
  );
}

function renderSources(sources, cites) {
  const items = sources.map((unit) =>
    el(
      "li",
      {},
      cites.marker(unit.id, unit),
      " ",
      el("span", { class: `speaker speaker-${unit.speaker}`, text: WHOSE[unit.speaker] }),
      el("span", { class: "block", text: unit.text }),
      el("code", { class: "hint block", text: `${unit.id} · ${unit.source_ref}` }),
    ),
  );
  return el("section", { class: "sources" }, el("h3", { text: "Sources" }), el("ul", {}, ...items));
}

function thumbIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", THUMB_PATH);
  svg.append(path);
  return svg;
}

function renderFeedback(answer) {
  const status = el("span", { class: "feedback-status", role: "status" });
  const thumb = (rating, label) =>
    el("button", { type: "button", class: `thumb ${rating}`, "aria-pressed": "false" }, thumbIcon(), label);
  const up = thumb("up", "Helpful");
  const down = thumb("down", "Not helpful");
  const send = async (rating, button) => {
    up.disabled = down.disabled = true;
    try {
      const receipt = await api("/v1/feedback", {
        user_id: answer.user_id,
        item_id: answer.item_id,
        session_id: answer.session_id,
        turn: answer.turn,
        rating,
        reason: answer.text,
      });
      button.setAttribute("aria-pressed", "true");
      status.textContent = `Thanks — feedback recorded (#${receipt.id}).`;
      if (receipt.preferences) showPreferences(receipt.preferences);
    } catch (error) {
      up.disabled = down.disabled = false;
      status.textContent = `Not recorded: ${error.message}`;
    }
  };
  up.addEventListener("click", () => send("up", up));
  down.addEventListener("click", () => send("down", down));
  return el("div", { class: "feedback", role: "group", "aria-label": "Was this answer helpful?" }, up, down, status);
}

// --- the evidence panel --------------------------------------------------------------------------------------

/** The unit's text with the span the checker matched in <mark>; offsets count code points, as Python does. */
function highlighted(text, span) {
  const chars = Array.from(text);
  if (!span || span.start >= span.end || span.end > chars.length) return [text];
  const mark = el("mark", { text: chars.slice(span.start, span.end).join("") });
  return [chars.slice(0, span.start).join(""), mark, chars.slice(span.end).join("")];
}

function showEvidence(button, { number, id, unit, span, claim, verdict }) {
  for (const pressed of document.querySelectorAll(".cite[aria-pressed='true']")) {
    pressed.setAttribute("aria-pressed", "false");
  }
  button.setAttribute("aria-pressed", "true");
  const panel = $("evidence");
  const close = el("button", { type: "button", class: "close", "aria-label": "Close the evidence", text: "×" });
  close.addEventListener("click", () => {
    closeEvidence();
    button.focus();
  });
  const head = el("div", { class: "panel-head" }, el("h2", { text: `Evidence [${number}]` }), close);
  if (!unit) {
    panel.replaceChildren(head, el("p", { text: `${id} is not among this answer’s evidence.` }));
    return;
  }
  const stars = unit.rating == null ? null : el("span", { class: "hint", text: ` · rated ${unit.rating}/5` });
  const meta = el(
    "dl",
    { class: "meta" },
    el("dt", { text: "Evidence id" }),
    el("dd", {}, el("code", { text: unit.id })),
    el("dt", { text: "Source" }),
    el("dd", {}, el("code", { text: unit.source_ref })),
    el("dt", { text: "Kind" }),
    el("dd", { text: unit.field ? `${unit.kind} · ${unit.field}` : unit.kind }),
  );
  const parts = [
    head,
    el("p", { class: "whose" }, el("span", { class: `speaker speaker-${unit.speaker}`, text: WHOSE[unit.speaker] }), stars),
    el("blockquote", { class: "unit-text" }, ...highlighted(unit.text, span)),
    claim ? el("p", { class: "cited-for" }, "Cited for: ", el("q", { text: claim.text })) : null,
    verdict ? el("p", { class: "hint", text: `${verdict.label} · ${verdict.rule}: ${verdict.detail}` }) : null,
    meta,
  ];
  panel.replaceChildren(...parts.filter(Boolean));
  panel.classList.add("open");
}

function closeEvidence() {
  for (const pressed of document.querySelectorAll(".cite[aria-pressed='true']")) {
    pressed.setAttribute("aria-pressed", "false");
  }
  const panel = $("evidence");
  panel.classList.remove("open");
  panel.replaceChildren(
    el("p", { class: "empty", text: "Click a citation number like [1] to see the evidence behind a claim." }),
    el("p", {
      class: "hint",
      text: "Each claim was checked against the units it cites; the badge names the rule that passed it. "
        + "Claims the checker rejected are listed apart, under “Checker rejected”.",
    }),
  );
}

function showPreferences(preferences) {
  const rows = preferences
    ? [
        ["Tell me about", preferences.focus.join(", ")],
        ["Leave out", preferences.avoid.join(", ")],
        ["Skipped evidence", preferences.excluded.length ? `${preferences.excluded.length} units` : ""],
      ].filter(([, value]) => value)
    : [];
  $("prefs").replaceChildren(...rows.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
  $("prefs-box").hidden = rows.length === 0;
}

// --- wiring --------------------------------------------------------------------------------------------------

function start() {
  $("user").addEventListener("change", (event) => guarded(() => chooseUser(event.target.value)));
  $("item").addEventListener("change", (event) => chooseItem(event.target.value));
  $("new-chat").addEventListener("click", newChat);
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("message");
    if (state.busy || !input.value.trim()) return;
    ask(input.value);
    input.value = "";
  });
  for (const chip of document.querySelectorAll(".chip")) chip.addEventListener("click", () => ask(chip.textContent));
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    $("token-form").hidden = true;
    clearError();
    if (!$("user").options.length) guarded(loadUsers);
  });
  document.addEventListener("keydown", (event) => {
    const open = document.querySelector(".cite[aria-pressed='true']");
    if (event.key === "Escape" && open) {
      closeEvidence();
      open.focus();
    }
  });
  closeEvidence();
  guarded(loadUsers);
}

start();
