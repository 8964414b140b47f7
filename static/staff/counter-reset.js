// The clerk's counter-reset console (docs/staff-console.md): follows the counter terminal's
// progress over /ws/staff/counter-reset/<id>/ and sends only "execute" and "cancel". The server
// sends states and reason codes; no value the resident types ever reaches this page.
const config = JSON.parse(document.getElementById("counter-config").textContent);
const S = JSON.parse(document.getElementById("counter-strings").textContent);
const $ = (id) => document.getElementById(id);
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k] ?? ""));

const FINAL = new Set(["counter_full", "failed", "cancelled"]);
const WAIT_FOR_TERMINAL_MS = 10000;
let socket = null;
let state = "";
let terminalTimer = null;
let noTerminal = false; // the code reached no terminal: that stays the headline

function say(text, { headline = true } = {}) {
  if (headline) $("counter-state").textContent = text;
  const item = document.createElement("li");
  item.textContent = text;
  $("counter-log").append(item);
}

function showTries(tries) {
  for (const item of $("counter-tries").querySelectorAll("li")) {
    const n = tries[item.dataset.credential];
    if (n === undefined) continue;
    item.textContent = fmt(S.tries, { name: item.dataset.label, n });
    item.hidden = false;
  }
}

function finish() {
  $("counter-execute").disabled = true;
  $("counter-cancel").disabled = true;
  $("counter-again").hidden = false;
}

function onProgress(message) {
  state = message.state;
  if (state !== "waiting_terminal") clearTimeout(terminalTimer);
  if (message.tries) showTries(message.tries);
  let key = `state.${state}`;
  if (state === "counter_full" && !message.full) key = "state.counter_not_full";
  // A reason the console has words for (`state.<state>.<reason>`, e.g. the terminal's page
  // closed mid-way) is said in them rather than as a reason code.
  if (message.reason && S[`${key}.${message.reason}`]) key = `${key}.${message.reason}`;
  // The cancel this page sent because no terminal answered keeps the clearer reason in view.
  say(fmt(S[key] || state, { reason: message.reason || "" }),
    { headline: !(noTerminal && state === "cancelled") });
  $("counter-execute").disabled = state !== "ready";
  $("counter-cancel").disabled = state === "working" || state === "done";
  if (FINAL.has(state)) finish();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}`);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "progress") onProgress(message);
  });
  socket.addEventListener("close", () => {
    clearTimeout(terminalTimer);
    if (!FINAL.has(state)) { say(S.socket_closed); state = "cancelled"; finish(); }
  });
  terminalTimer = setTimeout(() => {
    if (state === "waiting_terminal") { noTerminal = true; say(S.no_terminal); socket.send(JSON.stringify({ type: "cancel" })); }
  }, WAIT_FOR_TERMINAL_MS);
}

$("counter-execute").addEventListener("click", () => {
  $("counter-execute").disabled = true;
  socket.send(JSON.stringify({ type: "execute" }));
});
$("counter-cancel").addEventListener("click", () => socket.send(JSON.stringify({ type: "cancel" })));
connect();
