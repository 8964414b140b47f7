// The completion terminal (docs/kiosk.md). Screens are sections of one page; the server drives
// the reset over /ws/issuer/ and this script relays between it and the local bridge
// (myna-bridge --kiosk). A public terminal forgets everything: after idleSeconds without a touch,
// or when the card is taken away, every value is dropped and the top screen comes back.
import { BridgeClient } from "../reset/bridge-client.js";
import { ALNUM, DIGITS, FOUR_DIGIT_RULE, SIGN_RULE, buildKeypad, weakFourDigits } from "./keypad.js";

const config = JSON.parse(document.getElementById("kiosk-config").textContent);
const S = JSON.parse(document.getElementById("kiosk-strings").textContent);
const $ = (id) => document.getElementById(id);
const KEY_LABELS = { back: S["key.back"], clear: S["key.clear"] };
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));

const AUTH_RULE = FOUR_DIGIT_RULE;

// Everything about the resident lives here, and only until reset().
let state = null;
let server = null;
let bridge = null;
let idleTimer = null;

function freshState() {
  return { target: null, reservation: null, confirmLastTry: false, relaying: false };
}

function show(name) {
  for (const section of document.querySelectorAll("[data-screen]")) {
    section.hidden = section.dataset.screen !== name;
  }
  const heading = document.querySelector(`[data-screen="${name}"] h2`);
  if (heading) { heading.tabIndex = -1; heading.focus(); }
}

function clearInputs() {
  for (const input of document.querySelectorAll("input.secret")) input.value = "";
  for (const id of ["known-error", "new-error", "known-tries", "place-status", "refused-text"]) $(id).textContent = "";
  $("last-try").hidden = true;
}

function reset() {
  state = freshState();
  clearInputs();
  if (server) { try { server.close(); } catch { /* already closed */ } }
  server = null;
  show("top");
}

function refuse(text) {
  const keep = text;
  reset();
  $("refused-text").textContent = keep;
  show("refused");
}

function touch() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(reset, config.idleSeconds * 1000);
}

// --- the on-screen keypad ---------------------------------------------------------------

function keysFor(target) { return target === "sign" ? ALNUM : DIGITS; }
function ruleFor(target) { return target === "sign" ? SIGN_RULE : AUTH_RULE; }
function maxLength(target) { return target === "sign" ? 16 : 4; }

let activeInput = null;
function activate(input) {
  for (const other of document.querySelectorAll("input.secret")) other.classList.remove("active");
  activeInput = input;
  input.classList.add("active");
}

function onKey(event) {
  const button = event.target.closest("button");
  if (!button || !activeInput) return;
  const limit = Number(activeInput.dataset.max || 16);
  if (button.dataset.key && activeInput.value.length < limit) activeInput.value += button.dataset.key;
  if (button.dataset.action === "back") activeInput.value = activeInput.value.slice(0, -1);
  if (button.dataset.action === "clear") activeInput.value = "";
  // The confirmation field follows the first one automatically when it is full (4 digits).
  if (activeInput.id === "new-input" && state.target === "auth" && activeInput.value.length === 4) activate($("confirm-input"));
}

// --- the server socket --------------------------------------------------------------------

function openServer() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}`);
    socket.addEventListener("open", () => resolve(socket));
    socket.addEventListener("error", () => reject(new Error("socket")));
    socket.addEventListener("message", (event) => onServer(JSON.parse(event.data)));
    socket.addEventListener("close", () => { if (server === socket) server = null; });
  });
}

function send(message) {
  if (!server) { refuse(S.server_error); return; }
  server.send(JSON.stringify(message));
}

async function onServer(message) {
  touch();
  switch (message.type) {
    case "place_card": show("place"); readCard(); break;
    case "reservation": state.reservation = message; await askKnown(); break;
    case "proven": askNew(); break;
    case "password_refused":
      $("new-error").textContent = message.text;
      $("new-input").value = ""; $("confirm-input").value = "";
      activate($("new-input"));
      show("new");
      break;
    case "apdu": await relay(message.apdu); break;
    case "done": clearInputs(); show("done"); state = freshState(); break;
    case "refused": refuse(message.text); break;
    default: refuse(S.server_error);
  }
}

// --- card steps (through the bridge) ------------------------------------------------------

async function readCard() {
  try {
    const reply = await bridge.request("GET_AUTH_CERTIFICATE");
    send({ type: "card", certificate: reply.certificate });
  } catch (error) {
    // No card yet: wait for the READER card_inserted event (onBridgeEvent) and try again.
    $("place-status").textContent = error.reason === "NO_CARD" ? "" : (error.fix || S.card_error);
  }
}

async function askKnown() {
  const key = state.reservation.key;
  $("known-title").textContent = fmt(S.enter_known, { name: S[`known.${key}`] });
  $("known-input").dataset.max = key === "sign" ? "16" : "4";
  buildKeypad(document.querySelector('.keypad[data-for="known-input"]'), keysFor(key), KEY_LABELS);
  activate($("known-input"));
  try {
    const status = await bridge.request("GET_CARD_STATUS");
    const pin = status.card.pins[key === "sign" ? "jpki_sign" : "jpki_auth"];
    state.triesLeft = pin.tries_left;
    if (pin.blocked || pin.tries_left === 0) { refuse(S.locked); return; }
    $("known-tries").textContent = fmt(S.tries_left, { n: pin.tries_left });
  } catch (error) {
    refuse(error.fix || S.card_error);
    return;
  }
  show("known");
}

async function submitKnown(confirmed = false) {
  const key = state.reservation.key;
  const value = $("known-input").value;
  $("known-error").textContent = "";
  if (!ruleFor(key).test(value)) { $("known-error").textContent = S[`format.${key}`]; return; }
  if (state.triesLeft === 1 && !confirmed) {
    $("last-try-text").textContent = S.last_try;
    $("last-try").hidden = false;
    $("last-try-yes").focus();
    return;
  }
  $("last-try").hidden = true;
  show("working");
  try {
    const reply = await bridge.request("AUTHENTICATE", {
      purpose: state.reservation.purpose, nonce: state.reservation.nonce, key,
      pin: value, confirm_last_try: confirmed,
    });
    $("known-input").value = "";
    send({ type: "proof", certificate: reply.certificate, signature: reply.signature });
  } catch (error) {
    $("known-input").value = "";
    if (error.reason === "WRONG_PIN") {
      state.triesLeft = error.reply.tries_left;
      $("known-tries").textContent = fmt(S.tries_left, { n: state.triesLeft });
      $("known-error").textContent = fmt(S.wrong_pin, { n: state.triesLeft });
      show("known");
    } else if (error.reason === "PIN_BLOCKED") {
      refuse(S.locked);
    } else {
      refuse(error.fix || S.card_error);
    }
  }
}

function askNew() {
  const target = state.target;
  $("new-rule").textContent = S[`format.${target}`];
  for (const id of ["new-input", "confirm-input"]) $(id).dataset.max = String(maxLength(target));
  buildKeypad(document.querySelector('.keypad[data-for="new-input"]'), keysFor(target), KEY_LABELS);
  activate($("new-input"));
  show("new");
}

// The same rules the server applies (kiosk/password_rules.py), so nothing weak is ever sent.
function localProblem(target, value, confirm) {
  if (value !== confirm) return S.mismatch;
  if (!ruleFor(target).test(value)) return S[`format.${target}`];
  const weak = target === "auth" ? weakFourDigits(value) : "";
  return weak ? S[weak] : "";
}

function submitNew() {
  const value = $("new-input").value;
  const confirm = $("confirm-input").value;
  const problem = localProblem(state.target, value, confirm);
  if (problem) {
    $("new-error").textContent = problem;
    $("new-input").value = ""; $("confirm-input").value = "";
    activate($("new-input"));
    return;
  }
  $("new-error").textContent = "";
  show("working");
  send({ type: "new_password", value, confirm });
  $("new-input").value = ""; $("confirm-input").value = "";
}

async function relay(apdu) {
  try {
    const reply = await bridge.request("RELAY_APDU", { apdu });
    send({ type: "apdu_response", response: reply.response, sw: reply.sw });
  } catch (error) {
    refuse(error.reason === "CARD_REMOVED" ? S.card_removed : (error.fix || S.card_error));
  }
}

async function start(target) {
  state = freshState();
  state.target = target;
  try {
    server = await openServer();
  } catch {
    refuse(S.server_error);
    return;
  }
  send({ type: "start", target });
}

function onBridgeEvent(message) {
  if (message.msg !== "READER") return;
  const screen = document.querySelector("[data-screen]:not([hidden])")?.dataset.screen;
  if (message.event === "card_removed" && !["top", "menu", "choose", "refused", "done"].includes(screen)) {
    refuse(S.card_removed);
  } else if (message.event === "card_removed" && screen === "done") {
    reset();
  } else if (message.event === "card_inserted" && screen === "place") {
    readCard();
  }
}

async function connectBridge() {
  bridge = new BridgeClient(config.bridgeUrl);
  bridge.onEvent(onBridgeEvent);
  try {
    await bridge.connect();
  } catch {
    $("refused-text").textContent = S.no_helper;
    show("refused");
    setTimeout(connectBridge, 5000);
  }
}

document.addEventListener("pointerdown", touch, true);
document.addEventListener("keydown", touch, true);
for (const button of document.querySelectorAll("[data-go]")) {
  button.addEventListener("click", () => { if (button.dataset.go === "top") reset(); else show(button.dataset.go); });
}
for (const button of document.querySelectorAll("[data-target]")) {
  button.addEventListener("click", () => start(button.dataset.target));
}
for (const button of document.querySelectorAll("[data-cancel]")) {
  button.addEventListener("click", () => { if (server) server.send(JSON.stringify({ type: "cancel" })); reset(); });
}
for (const pad of document.querySelectorAll(".keypad")) pad.addEventListener("click", onKey);
for (const input of document.querySelectorAll("input.secret")) input.addEventListener("click", () => activate(input));
$("known-next").addEventListener("click", () => submitKnown(false));
$("last-try-yes").addEventListener("click", () => submitKnown(true));
$("last-try-no").addEventListener("click", () => { $("last-try").hidden = true; $("known-input").value = ""; });
$("new-next").addEventListener("click", submitNew);

reset();
touch();
connectBridge();
