// The counter terminal (docs/staff-console.md, counter resets). The resident types each new
// password on this page's keypad; it goes only to this page's own socket (/ws/counter/), which
// encrypts it for the card inside the issuer channel. The clerk's console pairs with this page by
// the terminal code shown on the idle screen and sees only progress. This script relays the
// issuer channel's APDUs to the local bridge (myna-bridge --kiosk), as the kiosk does.
import { BridgeClient } from "../reset/bridge-client.js";
import { ALNUM, DIGITS, FOUR_DIGIT_RULE, SIGN_RULE, buildKeypad, weakFourDigits } from "./keypad.js";

const config = JSON.parse(document.getElementById("counter-config").textContent);
const S = JSON.parse(document.getElementById("counter-strings").textContent);
const $ = (id) => document.getElementById(id);
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));

// The bridge's GET_CARD_STATUS names keys by PIN kind; the server by credential.
const PIN_OF = { sign: "jpki_sign", auth: "jpki_auth", text: "text_pin", juki: "juki_pin" };
// Screens on which an untouched terminal goes back to its idle screen (not while the clerk acts).
const TIMES_OUT = new Set(["place", "new", "done", "refused"]);

let server = null;
let bridge = null;
let flow = null; // { credentials, credential } while a session is paired; dropped by reset()
let idleTimer = null;
let activeInput = null;

function screen() { return document.querySelector("[data-screen]:not([hidden])")?.dataset.screen; }

function show(name) {
  for (const section of document.querySelectorAll("[data-screen]")) section.hidden = section.dataset.screen !== name;
  const heading = document.querySelector(`[data-screen="${name}"] h2`);
  if (heading) { heading.tabIndex = -1; heading.focus(); }
}

function clearInputs() {
  for (const input of document.querySelectorAll("input.secret")) input.value = "";
  for (const id of ["new-error", "place-status"]) $(id).textContent = "";
}

function closeServer() {
  const socket = server;
  server = null;
  if (socket) { try { socket.close(); } catch { /* already closed */ } }
}

// Back to the idle screen with a fresh socket, so a fresh terminal code.
async function reset() {
  flow = null;
  clearInputs();
  $("refused-text").textContent = "";
  $("terminal-code").textContent = "";
  closeServer();
  show("idle");
  try {
    server = await openServer();
  } catch {
    $("terminal-code").textContent = "";
    refuse(S.server_error);
  }
}

function refuse(text) {
  flow = null;
  clearInputs();
  closeServer();
  $("refused-text").textContent = text;
  show("refused");
  touch();
}

function touch() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { if (TIMES_OUT.has(screen())) { cancel(); reset(); } }, config.idleSeconds * 1000);
}

function cancel(reason = "resident_cancelled") {
  if (server && flow) server.send(JSON.stringify({ type: "cancel", reason }));
}

// --- the on-screen keypad ---------------------------------------------------------------

function activate(input) {
  for (const other of document.querySelectorAll("input.secret")) other.classList.remove("active");
  activeInput = input;
  input.classList.add("active");
}

function onKey(event) {
  const button = event.target.closest("button");
  if (!button || !activeInput || !flow) return;
  const limit = flow.credential === "sign" ? 16 : 4;
  if (button.dataset.key && activeInput.value.length < limit) activeInput.value += button.dataset.key;
  if (button.dataset.action === "back") activeInput.value = activeInput.value.slice(0, -1);
  if (button.dataset.action === "clear") activeInput.value = "";
  // The confirmation field follows the first one when a 4-digit value is complete.
  if (activeInput.id === "new-input" && limit === 4 && activeInput.value.length === 4) activate($("confirm-input"));
}

// --- the server socket --------------------------------------------------------------------

function openServer() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}`);
    socket.addEventListener("open", () => resolve(socket));
    socket.addEventListener("error", () => reject(new Error("socket")));
    socket.addEventListener("message", (event) => onServer(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (server !== socket) return;
      server = null;
      // Closed by the server while a session was paired and not finished: say so.
      if (!["done", "refused"].includes(screen())) refuse(S.server_error);
    });
  });
}

function send(message) {
  if (!server) { refuse(S.server_error); return; }
  server.send(JSON.stringify(message));
}

async function onServer(message) {
  touch();
  switch (message.type) {
    case "code": $("terminal-code").textContent = message.code; break;
    case "place_card": flow = { credentials: message.credentials, credential: null }; show("place"); readCard(); break;
    case "enter": askNew(message.credential); break;
    case "password_refused": askNew(message.credential, message.text); break;
    case "wait": show("wait"); break;
    case "apdu": show("working"); await relay(message.apdu); break;
    case "done": await finished(); break;
    case "refused": refuse(message.text); break;
    default: refuse(S.server_error);
  }
}

// --- card steps (through the bridge) ------------------------------------------------------

async function triesNow() {
  const status = await bridge.request("GET_CARD_STATUS");
  const tries = {};
  for (const credential of flow.credentials) tries[credential] = status.card.pins[PIN_OF[credential]]?.tries_left ?? 0;
  return tries;
}

async function readCard() {
  try {
    const reply = await bridge.request("GET_AUTH_CERTIFICATE");
    send({ type: "card", certificate: reply.certificate, tries: await triesNow() });
  } catch (error) {
    // No card yet: wait for the READER card_inserted event (onBridgeEvent) and try again.
    $("place-status").textContent = error.reason === "NO_CARD" ? "" : (error.fix || S.card_error);
  }
}

function askNew(credential, error = "") {
  flow.credential = credential;
  $("new-title").textContent = fmt(S.enter_new, { name: S[`label.${credential}`] });
  $("new-rule").textContent = credential === "sign" ? S["rule.sign"] : S["rule.four"];
  $("new-error").textContent = error;
  $("new-input").value = ""; $("confirm-input").value = "";
  const keys = credential === "sign" ? ALNUM : DIGITS;
  buildKeypad(document.querySelector('[data-screen="new"] .keypad'), keys, { back: S["key.back"], clear: S["key.clear"] });
  activate($("new-input"));
  show("new");
}

// The same rules the server applies (kiosk/password_rules.py), so nothing weak is ever sent.
function localProblem(credential, value, confirm) {
  if (value !== confirm) return S.mismatch;
  if (credential === "sign") return SIGN_RULE.test(value) ? "" : S["rule.sign"];
  if (!FOUR_DIGIT_RULE.test(value)) return S["rule.four"];
  const weak = weakFourDigits(value);
  return weak ? S[weak] : "";
}

function submitNew() {
  const value = $("new-input").value;
  const confirm = $("confirm-input").value;
  $("new-input").value = ""; $("confirm-input").value = "";
  const problem = localProblem(flow.credential, value, confirm);
  if (problem) { askNew(flow.credential, problem); return; }
  show("working");
  send({ type: "new_password", credential: flow.credential, value, confirm });
}

async function relay(apdu) {
  try {
    const reply = await bridge.request("RELAY_APDU", { apdu });
    send({ type: "apdu_response", response: reply.response, sw: reply.sw });
  } catch (error) {
    const removed = error.reason === "CARD_REMOVED";
    cancel(removed ? "card_removed" : "resident_cancelled");
    refuse(removed ? S.card_removed : (error.fix || S.card_error));
  }
}

async function finished() {
  clearInputs();
  show("done");
  try {
    // The card's own counters after the reset, for the clerk's screen (no try is spent).
    send({ type: "status", tries: await triesNow() });
  } catch {
    // No counters to report (the card was taken at once): the reset itself is already recorded.
  }
  flow = null;
}

function onBridgeEvent(message) {
  if (message.msg !== "READER") return;
  const now = screen();
  if (message.event === "card_removed" && ["new", "wait", "working"].includes(now)) {
    cancel("card_removed");
    refuse(S.card_removed);
  } else if (message.event === "card_removed" && now === "done") {
    reset();
  } else if (message.event === "card_inserted" && now === "place") {
    readCard();
  }
}

async function connectBridge() {
  bridge = new BridgeClient(config.bridgeUrl);
  bridge.onEvent(onBridgeEvent);
  try {
    await bridge.connect();
  } catch {
    refuse(S.no_helper);
    setTimeout(connectBridge, 5000);
  }
}

document.addEventListener("pointerdown", touch, true);
document.addEventListener("keydown", touch, true);
for (const button of document.querySelectorAll("[data-cancel]")) {
  button.addEventListener("click", () => { cancel(); reset(); });
}
document.querySelector('[data-screen="new"] .keypad').addEventListener("click", onKey);
for (const input of document.querySelectorAll("input.secret")) input.addEventListener("click", () => activate(input));
$("new-next").addEventListener("click", submitNew);
$("refused-top").addEventListener("click", reset);

reset();
connectBridge();
