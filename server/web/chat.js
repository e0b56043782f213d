// Council web chat: plain DOM + WebSocket, no framework. Every text goes through textContent (no HTML injection).
"use strict";
/* global URLSearchParams */

const token = new URLSearchParams(window.location.search).get("token");
const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
const chatUrl = `${scheme}//${window.location.host}/chat${token ? `?token=${encodeURIComponent(token)}` : ""}`;
const statusLine = document.getElementById("status");
const log = document.getElementById("log");
const form = document.getElementById("ask");
const input = document.getElementById("question");
const template = document.getElementById("turn-template");
// A session id must not be guessable. crypto.randomUUID needs a secure context (https, localhost);
// crypto.getRandomValues (128 random bits here) works on plain http too.
const sessionId = `web-${window.crypto.randomUUID?.() ?? Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
/** request id → the turn's elements */
const turns = new Map();
/** trace id → the turn's elements (for feedback acks) */
const traces = new Map();
let socket;
let nextId = 1;
let retryMs = 500;

function connect() {
  socket = new WebSocket(chatUrl);
  socket.addEventListener("open", () => {
    statusLine.textContent = "connected";
    retryMs = 500;
  });
  socket.addEventListener("close", (event) => {
    statusLine.textContent = `disconnected (${event.code}); reconnecting…`;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  });
  socket.addEventListener("message", (event) => onFrame(event.data));
}

function onFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    statusLine.textContent = "the server sent a frame that is not JSON";
    return;
  }
  if (frame.type === "token") {
    const turn = turns.get(frame.id);
    if (turn) {
      turn.answer.textContent += frame.text;
      turn.root.dataset.tokens = String(Number(turn.root.dataset.tokens ?? 0) + 1);
    }
  } else if (frame.type === "final") {
    const turn = turns.get(frame.id);
    if (!turn) return;
    turn.answer.textContent = frame.answer;
    turn.trace.textContent = `trace ${frame.trace_id}`;
    turn.score.textContent = `score ${Number(frame.score).toFixed(2)} · ${frame.route}${frame.adapter ? ` · ${frame.adapter}` : ""}`;
    turn.traceId = frame.trace_id;
    turn.rate.hidden = false;
    turn.root.dataset.traceId = frame.trace_id;
    turn.root.dataset.done = "true";
    traces.set(frame.trace_id, turn);
  } else if (frame.type === "feedback-ack") {
    const turn = traces.get(frame.trace_id);
    if (turn) turn.ack.textContent = "thanks: feedback recorded";
  } else if (frame.type === "error") {
    const turn = frame.id ? turns.get(frame.id) : undefined;
    if (turn) {
      turn.answer.classList.add("error");
      turn.answer.textContent = `${frame.code}: ${frame.message}`;
      turn.root.dataset.done = "true";
    } else {
      statusLine.textContent = `${frame.code}: ${frame.message}`;
    }
  }
}

function sendFeedback(turn, rating, correction) {
  if (!turn.traceId || socket.readyState !== WebSocket.OPEN) return;
  const frame = { type: "feedback", trace_id: turn.traceId, rating };
  if (correction) frame.correction = correction;
  socket.send(JSON.stringify(frame));
  turn.ack.textContent = "sending…";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || socket.readyState !== WebSocket.OPEN) return;
  const id = String(nextId++);
  const root = template.content.firstElementChild.cloneNode(true);
  const turn = {
    root,
    answer: root.querySelector(".answer"),
    trace: root.querySelector(".trace"),
    score: root.querySelector(".score"),
    rate: root.querySelector(".rate"),
    ack: root.querySelector(".ack"),
    correction: root.querySelector(".correction"),
    traceId: undefined,
  };
  root.querySelector(".question").textContent = text;
  root.querySelector(".up").addEventListener("click", () => sendFeedback(turn, 1));
  root.querySelector(".down").addEventListener("click", () => {
    turn.correction.hidden = false;
    sendFeedback(turn, -1);
  });
  turn.correction.addEventListener("submit", (submitEvent) => {
    submitEvent.preventDefault();
    const correction = root.querySelector(".correction-text").value.trim();
    if (correction) sendFeedback(turn, -1, correction);
  });
  turns.set(id, turn);
  log.append(root);
  socket.send(JSON.stringify({ type: "chat", id, session_id: sessionId, text }));
  input.value = "";
});

connect();
