// Council review queue (admin page at /review): lists GET /api/review and posts decisions to POST /api/review/:id.
// Built with textContent only: questions and answers come from users and models.
"use strict";

const $ = (id) => document.getElementById(id);
let token = window.sessionStorage.getItem("council-admin-token") ?? "";

function el(tag, { text, className, testid } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  if (testid) node.dataset.testid = testid;
  for (const child of children) node.append(child);
  return node;
}

function setStatus(text) {
  $("status").textContent = text;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const json = await response.json();
  if (!response.ok) throw new Error(`${json.code ?? response.status}: ${json.message ?? "request failed"}`);
  return json;
}

async function decide(item, body) {
  try {
    await api("POST", `/api/review/${encodeURIComponent(item.id)}`, body);
    await load(`${item.question}: ${body.decision === "reject" ? "rejected" : "accepted"}. The next nightly run uses the decision.`);
  } catch (error) {
    setStatus(`Could not record the decision: ${error.message}`);
  }
}

function renderItem(item) {
  const best = [...item.candidates].sort((a, b) => Number(b.id === item.winnerId) - Number(a.id === item.winnerId));
  const card = el("section", { className: "item", testid: "item" }, [
    el("h2", { text: item.question }),
    el("div", { text: `Council's best scored ${item.winnerScore.toFixed(2)}, not accepted: ${item.reason}` }),
    el("div", { text: "Failed answer:" }),
    el("pre", { text: item.failedAnswer, className: "failed" }),
  ]);
  best.forEach((candidate, index) => {
    const ballots = item.ballots.filter((ballot) => ballot.candidateId === candidate.id);
    const accept = el("button", { text: `Accept ${index + 1}`, testid: `accept-${index + 1}` });
    accept.type = "button";
    accept.addEventListener("click", () => decide(item, { decision: "accept", candidateId: candidate.id }));
    const editor = el("textarea", { testid: `edit-text-${index + 1}` });
    editor.value = candidate.text;
    const edit = el("button", { text: `Accept ${index + 1} as edited`, testid: `accept-edited-${index + 1}` });
    edit.type = "button";
    edit.addEventListener("click", () => decide(item, { decision: "accept", candidateId: candidate.id, text: editor.value }));
    card.append(
      el("div", { className: "candidate", testid: "candidate" }, [
        el("strong", { text: `[${index + 1}] ${candidate.source}${candidate.id === item.winnerId ? " (council's best)" : ""}` }),
        el("pre", { text: candidate.text }),
        el("ul", { className: "ballots" }, ballots.map((ballot) => el("li", { text: `${ballot.voter} ${ballot.score.toFixed(2)}: ${ballot.reason}` }))),
        editor,
        el("div", { className: "actions" }, [accept, edit]),
      ]),
    );
  });
  const reject = el("button", { text: "Reject", testid: "reject" });
  reject.type = "button";
  reject.addEventListener("click", () => decide(item, { decision: "reject" }));
  card.append(el("div", { className: "actions" }, [reject]));
  return card;
}

async function load(message) {
  try {
    const { items } = await api("GET", "/api/review");
    $("items").replaceChildren(...items.map(renderItem));
    setStatus(message ?? `${items.length} pending item(s).`);
    $("items").dataset.count = String(items.length);
  } catch (error) {
    setStatus(`Could not load the queue: ${error.message}`);
  }
}

$("token").value = token;
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  window.sessionStorage.setItem("council-admin-token", token);
  setStatus("Loading…");
  void load();
});
if (token !== "") void load();
