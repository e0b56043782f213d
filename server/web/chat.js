// Council web chat: plain DOM + WebSocket, no framework. Every text goes through textContent (no HTML injection).
//
// Protocol (server/frames.ts): `token` frames stream a DRAFT; the `final` frame's `answer` replaces everything
// streamed for that request id, and its `source` says where the answer came from. An `error` frame with an id
// fails that question; one without an id is shown as a notice (or placed on the one frame still awaiting a reply).
"use strict";
/* global URLSearchParams, crypto */

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;
/** Frames kept while disconnected; more are refused with a notice. */
const OUTBOX_LIMIT = 8;

const token = new URLSearchParams(window.location.search).get("token");
const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
const chatUrl = `${scheme}//${window.location.host}/chat${token ? `?token=${encodeURIComponent(token)}` : ""}`;

const connectionBox = document.getElementById("connection");
const statusLine = document.getElementById("status");
const reconnectButton = document.getElementById("reconnect");
const log = document.getElementById("log");
const intro = document.getElementById("intro");
const noticeBox = document.getElementById("notice");
const noticeText = document.getElementById("notice-text");
const form = document.getElementById("ask");
const input = document.getElementById("question");
const template = document.getElementById("turn-template");

// crypto.randomUUID exists only in secure contexts (https, localhost); plain http on a LAN address gets an RFC 4122 v4 id from getRandomValues.
if (typeof crypto.randomUUID !== "function") {
  crypto.randomUUID = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
const sessionId = crypto.randomUUID();

/** request id → turn */
const turns = new Map();
/** trace id → turn (feedback acks) */
const traces = new Map();
/** Frames waiting for a connection: { kind: "chat" | "feedback", frame, turn } */
const outbox = [];
/** Frames sent on this connection with no reply yet (an error without an id belongs to one of them). */
const awaiting = new Set();
const connection = { socket: undefined, attempt: 0, retryAt: 0, retryTimer: undefined, countdown: undefined };
let nextId = 1;
let noticeTimer;

// ---- connection ----

function setConnection(state, text) {
  connectionBox.dataset.state = state;
  statusLine.textContent = text;
  reconnectButton.hidden = state !== "closed";
  form.dataset.connection = state;
}

function connect() {
  clearTimeout(connection.retryTimer);
  clearInterval(connection.countdown);
  if (connection.socket) return;
  setConnection("connecting", "Connecting…");
  const socket = new WebSocket(chatUrl);
  connection.socket = socket;
  socket.addEventListener("open", () => {
    connection.attempt = 0;
    setConnection("open", "Connected");
    const queued = outbox.splice(0);
    for (const item of queued) transmit(item);
    if (queued.length > 0) showNotice(`Connected again: sent ${queued.length} waiting message${queued.length === 1 ? "" : "s"}.`, { hideAfterMs: 4000 });
    else if (noticeBox.dataset.kind === "offline") hideNotice();
  });
  socket.addEventListener("close", (event) => {
    if (connection.socket !== socket) return;
    connection.socket = undefined;
    disconnected(event.code);
  });
  socket.addEventListener("message", (event) => {
    if (connection.socket === socket) onFrame(event.data);
  });
}

function disconnected(code) {
  // The server cancels a closed connection's turns: every question sent and not yet answered has failed.
  for (const [id, turn] of turns) {
    const state = turn.root.dataset.state;
    if (turn.id === id && (state === "sent" || state === "drafting")) failTurn(turn, { text: "The connection dropped before the answer arrived." });
  }
  for (const item of awaiting) {
    if (item.kind === "feedback") setAck(item.turn, "Feedback not recorded: the connection dropped. Click again once connected.");
  }
  awaiting.clear();
  // Exponential backoff with jitter (half the ceiling plus a random half) keeps pages from reconnecting in step after a restart.
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** connection.attempt++);
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  connection.retryAt = Date.now() + delay;
  connection.retryTimer = setTimeout(connect, delay);
  connectionBox.dataset.closeCode = String(code);
  const showCountdown = () => {
    const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
    setConnection("closed", `Disconnected. Retrying in ${seconds} s`);
  };
  showCountdown();
  connection.countdown = setInterval(showCountdown, 1000);
}

function isOpen() {
  return connection.socket?.readyState === WebSocket.OPEN;
}

/** Sends now, keeps it for the next connection, or refuses: returns "sent" | "queued" | "refused". */
function deliver(item) {
  if (isOpen()) {
    transmit(item);
    return "sent";
  }
  if (outbox.length >= OUTBOX_LIMIT) {
    showNotice(`Not connected, and ${OUTBOX_LIMIT} messages are already waiting: this one was not sent.`, { kind: "offline" });
    return "refused";
  }
  outbox.push(item);
  showNotice("Not connected: your message waits and is sent as soon as the connection is back.", { kind: "offline" });
  return "queued";
}

function transmit(item) {
  connection.socket.send(JSON.stringify(item.frame));
  awaiting.add(item);
  if (item.kind === "chat") setTurnState(item.turn, "sent", "Thinking…");
  else setAck(item.turn, "Sending…");
}

// ---- frames ----

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    showNotice("The server sent a frame that is not JSON.");
    return;
  }
  if (frame.type === "feedback-ack") return feedbackAck(frame);
  if (frame.type === "error" && !frame.id) return unplacedError(frame);
  const turn = turns.get(frame.id);
  if (!turn || turn.id !== frame.id) return;
  replied((item) => item.kind === "chat" && item.turn === turn);
  if (frame.type === "token") draftToken(turn, frame.text);
  else if (frame.type === "final") finalAnswer(turn, frame);
  else if (frame.type === "error") failTurn(turn, { code: frame.code, text: frame.message });
}

function replied(matches) {
  for (const item of awaiting) if (matches(item)) awaiting.delete(item);
}

function draftToken(turn, text) {
  if (turn.root.dataset.state === "done" || turn.root.dataset.state === "failed") return;
  keepScrolled(() => {
    if (turn.root.dataset.state !== "drafting") setTurnState(turn, "drafting", "Drafting… (the council reviews this before the final answer)");
    turn.draft += text;
    turn.answer.textContent = turn.draft;
    turn.root.dataset.tokens = String(Number(turn.root.dataset.tokens ?? 0) + 1);
  });
}

function finalAnswer(turn, frame) {
  keepScrolled(() => {
    const revised = turn.draft.trim() !== "" && turn.draft.trim() !== frame.answer.trim();
    turn.answer.textContent = frame.answer;
    setTurnState(turn, "done", revised ? "Final answer · replaced the draft" : "Final answer");
    turn.root.dataset.revised = String(revised);
    const source = describeSource(frame.source, frame.adapter);
    turn.source.textContent = source.text;
    turn.source.title = source.title;
    turn.source.dataset.kind = frame.source?.kind ?? "unknown";
    // The critic scored the model's draft; under a fallback that is the draft that failed, not the text shown.
    turn.score.textContent = `${frame.source?.kind === "fallback" ? "draft score" : "score"} ${Number(frame.score).toFixed(2)} · ${frame.route}`;
    turn.trace.textContent = `trace ${frame.trace_id}`;
    turn.traceId = frame.trace_id;
    turn.root.dataset.traceId = frame.trace_id;
    turn.rate.hidden = false;
    traces.set(frame.trace_id, turn);
  });
}

/** "Model · adapter 3f2a1b0c…", "Model · base model", "Verified answer (entry v-…)", "From the knowledge base: <page>". */
function describeSource(source, adapter) {
  if (!source) return { text: adapter ? `Model · adapter ${short(adapter)}` : "Model · base model", title: "" };
  if (source.kind === "memory") return { text: `Verified answer (entry ${short(source.entry ?? "unknown")})`, title: `A verified answer from memory, entry ${source.entry ?? "unknown"}` };
  if (source.kind === "fallback") {
    if (source.page) return { text: `From the knowledge base: ${source.page}`, title: "The model's draft failed review; this is the knowledge base's text" };
    return { text: "Fallback: the draft failed review", title: "The model's draft failed review and no knowledge-base page matched" };
  }
  return source.adapter ? { text: `Model · adapter ${short(source.adapter)}`, title: `Adapter ${source.adapter}` } : { text: "Model · base model", title: "The base model, no adapter" };
}

function short(id) {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
}

function feedbackAck(frame) {
  const turn = traces.get(frame.trace_id);
  if (!turn) return;
  let corrected = false;
  for (const item of awaiting) {
    if (item.kind !== "feedback" || item.frame.trace_id !== frame.trace_id) continue;
    corrected ||= item.frame.correction !== undefined;
    awaiting.delete(item);
  }
  setAck(turn, corrected ? "Thanks: your correction was recorded" : "Thanks: feedback recorded");
  if (corrected) turn.correction.hidden = true;
}

/** The server could not tie an error to a request id (rate limit, bad frame): place it when only one frame awaits a reply. */
function unplacedError(frame) {
  const [only, ...others] = awaiting;
  if (only && others.length === 0) {
    awaiting.delete(only);
    if (only.kind === "chat") return failTurn(only.turn, { code: frame.code, text: frame.message });
    setAck(only.turn, `Feedback not recorded: ${frame.message}`);
    return undefined;
  }
  showNotice(`${frame.code}: ${frame.message}`);
  return undefined;
}

// ---- turns ----

function setTurnState(turn, state, badge) {
  turn.root.dataset.state = state;
  // Screen readers announce the answer once it is final, not every streamed token of the draft.
  turn.root.setAttribute("aria-busy", String(state === "queued" || state === "sent" || state === "drafting"));
  turn.badge.textContent = badge;
}

function failTurn(turn, { code, text }) {
  keepScrolled(() => {
    setTurnState(turn, "failed", code ? `Failed · ${code}` : "Failed");
    turn.answer.textContent = text;
    turn.retry.hidden = false;
  });
}

function createTurn(text) {
  const root = template.content.firstElementChild.cloneNode(true);
  const turn = {
    root,
    text,
    id: undefined,
    draft: "",
    traceId: undefined,
    badge: root.querySelector(".badge"),
    source: root.querySelector(".source"),
    answer: root.querySelector(".answer"),
    score: root.querySelector(".score"),
    trace: root.querySelector(".trace"),
    rate: root.querySelector(".rate"),
    helpful: root.querySelector(".helpful"),
    notHelpful: root.querySelector(".not-helpful"),
    retry: root.querySelector(".retry"),
    ack: root.querySelector(".ack"),
    correction: root.querySelector(".correction"),
    correctionText: root.querySelector(".correction-text"),
  };
  root.querySelector(".question").textContent = text;
  turn.helpful.addEventListener("click", () => rate(turn, 1));
  turn.notHelpful.addEventListener("click", () => {
    rate(turn, -1);
    openCorrection(turn);
  });
  turn.retry.addEventListener("click", () => ask(turn));
  root.querySelector(".cancel").addEventListener("click", () => {
    turn.correction.hidden = true;
  });
  turn.correction.addEventListener("submit", (event) => {
    event.preventDefault();
    const correction = turn.correctionText.value.trim();
    if (correction) rate(turn, -1, correction);
  });
  return turn;
}

/** Sends the turn's question under a new request id (a retry forgets the failed attempt). */
function ask(turn) {
  turn.id = String(nextId++);
  turn.draft = "";
  turn.answer.textContent = "";
  turn.retry.hidden = true;
  delete turn.root.dataset.tokens;
  turns.set(turn.id, turn);
  const outcome = deliver({ kind: "chat", frame: { type: "chat", id: turn.id, session_id: sessionId, text: turn.text }, turn });
  if (outcome === "queued") setTurnState(turn, "queued", "Waiting for the connection…");
  else if (outcome === "refused") failTurn(turn, { text: "Not sent: not connected, and too many messages are already waiting." });
}

function rate(turn, rating, correction) {
  if (!turn.traceId) return;
  turn.helpful.setAttribute("aria-pressed", String(rating === 1));
  turn.notHelpful.setAttribute("aria-pressed", String(rating === -1));
  const frame = { type: "feedback", trace_id: turn.traceId, rating, ...(correction ? { correction } : {}) };
  const outcome = deliver({ kind: "feedback", frame, turn });
  if (outcome === "queued") setAck(turn, "Waiting for the connection…");
  else if (outcome === "refused") setAck(turn, "Not sent: not connected");
}

/** Feedback status next to the buttons; an open correction box stays in view when the line rewraps. */
function setAck(turn, text) {
  turn.ack.textContent = text;
  if (!turn.correction.hidden) revealInLog(turn.correction);
}

/** The correction box opens under the answer it corrects and is scrolled into view, above the input bar. */
function openCorrection(turn) {
  turn.correction.hidden = false;
  revealInLog(turn.correction);
  turn.correctionText.focus({ preventScroll: true });
}

/** Scrolls the log just enough that all of `element` shows, with a margin (its top wins when it is taller than the log). */
function revealInLog(element, margin = 16) {
  const box = element.getBoundingClientRect();
  const view = log.getBoundingClientRect();
  if (box.bottom + margin > view.bottom) log.scrollTop += box.bottom + margin - view.bottom;
  const top = element.getBoundingClientRect().top;
  if (top - margin < view.top) log.scrollTop -= view.top - (top - margin);
}

/** Follows the stream when the reader is at the bottom of the log; leaves their place alone otherwise. */
function keepScrolled(update) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  update();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

// ---- notices and input ----

function showNotice(text, { kind = "info", hideAfterMs } = {}) {
  clearTimeout(noticeTimer);
  noticeText.textContent = text;
  noticeBox.dataset.kind = kind;
  noticeBox.hidden = false;
  if (hideAfterMs) noticeTimer = setTimeout(hideNotice, hideAfterMs);
}

function hideNotice() {
  noticeBox.hidden = true;
}

document.getElementById("notice-close").addEventListener("click", hideNotice);
reconnectButton.addEventListener("click", connect);
window.addEventListener("online", () => {
  if (!connection.socket) connect();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  intro.hidden = true;
  const turn = createTurn(text);
  log.append(turn.root);
  ask(turn);
  log.scrollTop = log.scrollHeight;
  input.value = "";
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

connect();
