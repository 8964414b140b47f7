// The card page: card-face items → reader → card status + password → chip read, client-side.
// Card-face items and the password live only in `memory` below, go only to the local bridge,
// and are dropped after the chip read (docs/wizard.md; architecture.md, trust model).
import { connectHelper, helperLost, onRetry } from "./helper-setup.js";
import { bothForms, checkPassword, parseDate, validateCardFace } from "./card-face.js";

const config = JSON.parse(document.getElementById("wizard-config").textContent);
const S = JSON.parse(document.getElementById("wizard-strings").textContent);
const csrf = document.getElementById("csrf-token").value;
const $ = (id) => document.getElementById(id);
const fmt = (text, values) => Object.entries(values).reduce((out, [k, v]) => out.split(`%${k}`).join(String(v)), text);

const KNOWN_KEY = config.target === "sign" ? "auth" : "sign"; // the key the resident still knows
const KNOWN_PIN = KNOWN_KEY === "auth" ? "jpki_auth" : "jpki_sign";
const TARGET_PIN = config.target === "sign" ? "jpki_sign" : "jpki_auth";

// items: the validated card-face items (ISO dates) for the bridge; typed: the same as the resident
// typed them (和暦 stays 和暦), to put back into the form when they go back to correct one.
const memory = { items: null, typed: null, pin: null, confirmLastTry: false, knownTries: null };
let serverStep = config.step;
let bridge = null;
let selectedReader = "";
let cardPresent = false;
let lastStatus = null; // counters read at the status step, kept current after each try

// ---------------------------------------------------------------- helpers
async function postJson(url, body) {
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch { data = { ok: false, message: S["chip.failed"] }; }
    return { status: response.status, data };
  } catch {
    return { status: 0, data: { ok: false, reason: "network", message: S["chip.network"] } };
  }
}

async function progress(done) {
  // Tell the server a sub-step was completed (no values are sent). Skipped when the server is
  // already past it (the resident came back to fix something after a wrong PIN).
  if (serverStep !== done) return true;
  const { data } = await postJson(config.progressUrl, { done });
  if (data.ok) { serverStep = data.step; return true; }
  alertServer(data);
  return false;
}

const STEP_ERRORS = { card_face: "card-face-error", reader: "reader-error", password: "pin-error", chip: "chip-error" };
function alertServer(data) {
  const visible = STEPS.find((name) => !$(`step-${name}`).hidden) || "card_face";
  const box = $(STEP_ERRORS[visible]);
  box.textContent = data.message || S["server.wrong_step"];
  if (data.reason === "expired_session" || data.reason === "wrong_step") {
    setTimeout(() => { window.location.href = "/"; }, 4000);
  }
}

const STEPS = ["card_face", "reader", "password", "chip"];
function show(step) {
  for (const name of STEPS) $(`step-${name}`).hidden = name !== step;
  const index = STEPS.indexOf(step);
  document.querySelectorAll("[data-step-marker]").forEach((li) => {
    const i = STEPS.indexOf(li.dataset.stepMarker);
    li.classList.toggle("done", i < index);
    if (i === index) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
  });
  const heading = $(`h-${step}`);
  heading.focus();
  document.dispatchEvent(new CustomEvent("wizard:step", { detail: { step } }));
}

function setFieldError(field, code) {
  const input = $(field);
  const box = $(`${field}-error`);
  if (code) {
    input.setAttribute("aria-invalid", "true");
    box.textContent = S[`err.${field}.${code}`] || S[`err.${code}`] || S["err.fix_fields"];
  } else {
    input.removeAttribute("aria-invalid");
    box.textContent = "";
  }
}

function forget() {
  memory.items = null;
  memory.typed = null;
  memory.pin = null;
  memory.confirmLastTry = false;
  for (const id of ["birth_date", "expiry_date", "security_code", "pin"]) $(id).value = "";
}

// ---------------------------------------------------------------- 1. card-face items
function showBoth(field) {
  const value = $(field).value;
  const out = $(`${field}-both`);
  const parsed = parseDate(value);
  out.textContent = value && !parsed.error ? bothForms(parsed, S) : "";
}

for (const field of ["birth_date", "expiry_date"]) {
  $(field).addEventListener("input", () => showBoth(field));
  $(field).addEventListener("change", () => showBoth(field));
}

// A field marked wrong stops being red as soon as it is right (no new errors while typing: those
// wait for the next submit).
function clearFixedErrors() {
  const { errors } = validateCardFace({
    birth_date: $("birth_date").value,
    expiry_date: $("expiry_date").value,
    security_code: $("security_code").value,
  });
  let fixed = false;
  for (const field of ["birth_date", "expiry_date", "security_code"]) {
    if ($(field).getAttribute("aria-invalid") === "true" && !errors[field]) {
      setFieldError(field, null);
      fixed = true;
    }
  }
  // The summary goes with the last fixed field (a message from the card stays until resubmit).
  if (fixed && !document.querySelector("#card-face-form [aria-invalid=true]")) $("card-face-error").textContent = "";
}
for (const field of ["birth_date", "expiry_date", "security_code"]) {
  $(field).addEventListener("input", clearFixedErrors);
}

$("card-face-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const raw = {
    birth_date: $("birth_date").value,
    expiry_date: $("expiry_date").value,
    security_code: $("security_code").value,
  };
  const { values, errors } = validateCardFace(raw);
  for (const field of Object.keys(raw)) setFieldError(field, errors[field]);
  if (!values) {
    $("card-face-error").textContent = S["err.fix_fields"];
    const first = Object.keys(raw).find((field) => errors[field]);
    $(first).focus();
    return;
  }
  $("card-face-error").textContent = "";
  if (!(await progress("card_face"))) return;
  memory.items = values;
  memory.typed = raw;
  // "What you typed is gone" no longer applies once it is typed again.
  for (const id of ["card-rewound", "card-reloaded"]) if ($(id)) $(id).hidden = true;
  for (const id of ["birth_date", "expiry_date", "security_code"]) $(id).value = "";
  for (const id of ["birth_date-both", "expiry_date-both"]) $(id).textContent = "";
  show("reader");
  // Back from a later sub-step: the helper is still connected, and it takes one page at a time.
  if (!bridge || !bridge.socket || bridge.socket.readyState !== WebSocket.OPEN) connectBridge();
});

$("cardface-camera").addEventListener("click", async () => {
  const area = $("cardface-camera-area");
  area.textContent = S["camera.loading"];
  try {
    const module = await import(config.cardfaceModule);
    area.textContent = "";
    await module.start({
      form: $("card-face-form"),
      container: area,
      endpoint: config.cardfaceUrl,
      burstEndpoint: config.cardfaceBurstUrl,
      csrfToken: csrf,
      onFilled: () => { showBoth("birth_date"); showBoth("expiry_date"); },
      strings: Object.fromEntries(Object.entries(S).filter(([key]) => key.startsWith("cardface."))),
    });
    showBoth("birth_date");
    showBoth("expiry_date");
  } catch (exc) {
    console.error(exc);
    area.textContent = S["camera.unavailable"];
  }
});

// In-page 〈戻る between sub-steps. The server stays where it is (progress() skips steps it has
// passed); the card-face items come back from page memory so one of them can be corrected.
for (const button of document.querySelectorAll("[data-back]")) {
  button.addEventListener("click", () => {
    const to = button.dataset.back;
    memory.pin = null;
    $("pin").value = "";
    if (to === "card_face" && memory.typed) {
      for (const field of ["birth_date", "expiry_date", "security_code"]) $(field).value = memory.typed[field];
      showBoth("birth_date");
      showBoth("expiry_date");
    }
    show(to);
  });
}

// ---------------------------------------------------------------- 2. bridge and reader
function bridgeStatus(text, kind = "") {
  const box = $("bridge-status");
  box.textContent = text;
  box.className = `status-box ${kind}`;
}

async function connectBridge() {
  // Install guidance, update message and the browser's permission: static/reset/helper-setup.js.
  $("reader-next").disabled = true; // until this connection has found the card
  cardPresent = false;
  if (bridge) bridge.close();
  $("reader-area").hidden = true;
  bridge = await connectHelper(config.bridgeUrl, onBridgeEvent, bridgeStatus);
  if (!bridge) return;
  $("reader-area").hidden = false;
  await refreshReaders();
}
onRetry(connectBridge);

function readerList(reply) {
  return (reply.readers || []).map((r) => (typeof r === "string" ? { name: r, card_present: false } : r));
}

function renderReaders(reply) {
  const readers = readerList(reply);
  const select = $("reader-select");
  select.textContent = "";
  for (const reader of readers) {
    const option = document.createElement("option");
    option.value = reader.name;
    option.textContent = reader.name;
    select.appendChild(option);
  }
  selectedReader = reply.selected || (readers[0] && readers[0].name) || "";
  select.value = selectedReader;
  const current = readers.find((r) => r.name === selectedReader);
  cardPresent = Boolean(current && current.card_present);
  if (reply.service === false) {
    $("reader-error").textContent = reply.fix || S["reader.service_down"];
  } else if (!readers.length) {
    $("reader-error").textContent = S["reader.none"];
  } else {
    $("reader-error").textContent = "";
  }
  $("card-presence").textContent = readers.length ? (cardPresent ? S["reader.card_present"] : S["reader.card_absent"]) : "";
  $("reader-next").disabled = !cardPresent;
  chipCardMoved(current);
}

async function refreshReaders() {
  try {
    renderReaders(await bridge.request("GET_READERS"));
  } catch (error) {
    $("reader-error").textContent = (error && error.fix) || S["reader.none"];
  }
}

function onBridgeEvent(message) {
  if (message.msg === "READER" || message.msg === "SERVICE") {
    refreshReaders();
  } else if (message.msg === "STATUS" && typeof message.progress === "number") {
    $("chip-progress").value = 30 + Math.round(message.progress * 0.5);
  } else if (message.msg === "CLOSED") {
    $("reader-area").hidden = true;
    helperLost(bridgeStatus);
  }
}

$("reader-select").addEventListener("change", async () => {
  try {
    renderReaders(await bridge.request("SELECT_READER", { reader: $("reader-select").value }));
  } catch (error) {
    $("reader-error").textContent = error.fix || S["reader.none"];
  }
});
$("reader-next").addEventListener("click", async () => {
  if (!(await progress("reader"))) return;
  show("password");
  loadCardStatus();
});

// ---------------------------------------------------------------- 3. card status and password
// CARD_STATUS (docs/bridge-protocol.md): {card: {pins: {kind: {tries_left, max_tries, blocked} | null},
// certificates: {auth: bool, sign: bool}, auth_certificate: {not_after, expired} | null, routes}}
function pinEntries(reply) {
  const pins = (reply.card || reply).pins || {};
  return Object.fromEntries(Object.entries(pins).filter(([, value]) => value));
}

function certEntries(reply) {
  const card = reply.card || reply;
  const present = card.certificates || {};
  const auth = card.auth_certificate || {};
  return {
    // The signature certificate can only be read after its password: presence is all we know.
    sign: { present: Boolean(present.sign) },
    auth: { present: Boolean(present.auth), not_after: auth.not_after, expired: auth.expired },
  };
}

function certUsable(cert) {
  if (!cert || !cert.present) return false;
  if (cert.expired === true) return false;
  if (cert.not_after && new Date(cert.not_after) < new Date()) return false;
  return true;
}

function routeFor(pins, certs) {
  const known = pins[KNOWN_PIN] || {};
  const routes = [];
  if (known.blocked || known.tries_left === 0) return { ok: false, messages: [fmt(S["route.known_locked"], { K: S["known"] })] };
  if (!certUsable(certs[KNOWN_KEY]) || !certUsable(certs[config.target])) {
    return { ok: false, messages: [S["route.target_cert_expired"]] };
  }
  const pinB = pins.visual_pin_b;
  if (pinB && (pinB.blocked || pinB.tries_left === 0)) return { ok: false, messages: [S["route.pin_b_locked"]] };
  // Which chains can finish this reset is data (reset/kiosk_stores.json, peers.md): with none,
  // a booking could not be used, so the resident is sent to the counter before any try.
  const stores = config.stores || [];
  if (!stores.length) return { ok: false, messages: [fmt(S["route.no_store"], { T: S["target"] })] };
  routes.push(fmt(S["route.ok"], { K: S["known"] }));
  const target = pins[TARGET_PIN];
  if (target && !target.blocked && target.tries_left > 0) routes.push(fmt(S["route.target_not_locked"], { N: target.tries_left }));
  if (config.target === "auth") routes.push(S["route.store_auth"]);
  routes.push(fmt(S["route.stores"], { T: S["target"], S: stores.join(S["list.separator"]) }));
  for (const other of ["text_pin", "juki_pin"]) {
    const p = pins[other];
    if (p && (p.blocked || p.tries_left === 0)) routes.push(fmt(S["route.other_pins"], { P: S[`pin.${other}`] }));
  }
  return { ok: true, messages: routes };
}

function renderStatus(pins, certs) {
  const body = $("status-rows");
  body.textContent = "";
  for (const kind of ["jpki_auth", "jpki_sign", "text_pin", "juki_pin", "visual_pin_b"]) {
    const p = pins[kind];
    if (!p) continue;
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = S[`pin.${kind}`];
    const tries = document.createElement("td");
    tries.textContent = p.max_tries ? fmt(S["tries.of"], { N: p.tries_left, M: p.max_tries }) : fmt(S["tries.left"], { N: p.tries_left });
    const state = document.createElement("td");
    state.textContent = p.blocked || p.tries_left === 0 ? S["state.blocked"] : p.tries_left === 1 ? S["state.last"] : S["state.ok"];
    row.append(name, tries, state);
    body.appendChild(row);
  }
  $("status-table").hidden = false;
  const list = $("cert-status");
  list.textContent = "";
  for (const key of ["auth", "sign"]) {
    const cert = certs[key];
    const li = document.createElement("li");
    const label = S[`cert.${key}`];
    const date = cert && cert.not_after ? new Date(cert.not_after).toLocaleDateString(document.documentElement.lang) : "";
    li.textContent = !cert || !cert.present
      ? fmt(S["cert.missing"], { C: label })
      : certUsable(cert) ? fmt(date ? S["cert.valid_until"] : S["cert.present"], { C: label, D: date }) : fmt(S["cert.expired"], { C: label, D: date });
    list.appendChild(li);
  }
}

// The known password's tries left, wherever the page shows or uses them: the last-try question
// reads memory.knownTries.
function showKnownTries(triesLeft) {
  memory.knownTries = triesLeft;
  // At an assisted counter terminal the clerk's console shows the tries left (a count only).
  if (config.triesUrl && typeof triesLeft === "number") postJson(config.triesUrl, { tries_left: triesLeft });
  $("pin-tries").textContent = triesLeft == null ? "" : fmt(S["password.tries"], { N: triesLeft });
}

function showPasswordForm(triesLeft) {
  showKnownTries(triesLeft);
  $("password-form").hidden = false;
  $("password-heading").textContent = fmt(S["password.heading"], { K: S["known"] });
  $("pin-label").textContent = fmt(S["password.label"], { K: S["known"] });
  $("pin-hint").textContent = S[`password.hint.${KNOWN_KEY}`];
  const pin = $("pin");
  pin.setAttribute("inputmode", KNOWN_KEY === "auth" ? "numeric" : "text");
  pin.setAttribute("maxlength", KNOWN_KEY === "auth" ? "4" : "16");
}

function rememberStatus(reply) {
  lastStatus = { pins: pinEntries(reply), certs: certEntries(reply) };
  renderStatus(lastStatus.pins, lastStatus.certs);
  return lastStatus;
}

async function loadCardStatus() {
  const box = $("status-progress");
  $("status-retry").hidden = true;
  box.className = "status-box";
  box.textContent = S["status.reading"];
  $("route-box").hidden = true;
  $("password-form").hidden = true;
  let reply;
  try {
    reply = await bridge.request("GET_CARD_STATUS");
  } catch (error) {
    box.className = "status-box bad";
    box.textContent = `${S["status.failed"]} ${error.fix || ""}`;
    $("status-retry").hidden = false;
    return;
  }
  box.textContent = "";
  const { pins, certs } = rememberStatus(reply);
  const route = routeFor(pins, certs);
  const routeBox = $("route-box");
  routeBox.textContent = "";
  for (const text of route.messages) {
    const p = document.createElement("p");
    p.textContent = text;
    p.className = route.ok ? "route-ok" : "route-stop";
    routeBox.appendChild(p);
  }
  routeBox.hidden = false;
  if (!route.ok) return;
  // The card-face items are checked now, before any password is typed (issue 14).
  if (!(await checkCardFaceItems(pins.visual_pin_b))) return;
  showPasswordForm((pins[KNOWN_PIN] || {}).tries_left);
  $("pin").focus();
}

// ---------------------------------------------------------------- 3a. card-face items on the card
// CHECK_CARD_FACE_ITEMS (docs/bridge-protocol.md) VERIFYs 照合番号B alone: a wrong item costs one
// of its tries now, instead of after the password and the chip read. Never sent malformed (the
// form validated it), and never on the last try without the resident's say-so.
async function checkCardFaceItems(pinB) {
  const box = $("status-progress");
  let confirm = false;
  if (pinB && pinB.tries_left === 1) {
    if (!(await confirmLastTry("pin_b"))) {
      backToCardFace(S["err.pin_b.recheck"]);
      return false;
    }
    confirm = true;
  }
  box.className = "status-box";
  box.textContent = S["check.pin_b"];
  let reply;
  try {
    reply = await bridge.request("CHECK_CARD_FACE_ITEMS", { ...memory.items, confirm_last_try: confirm });
  } catch (error) {
    const reply = (error && error.reply) || {};
    // A helper older than this command: RESERVE still checks the items, later.
    if (reply.msg === "UNKNOWN_COMMAND") { box.textContent = ""; return true; }
    // The counter fell to one since it was read (another program?): ask, as for any last try.
    if (reply.reason === "LAST_TRY_CONFIRMATION_REQUIRED" && !confirm) return checkCardFaceItems({ tries_left: 1 });
    return cardFaceCheckFailed(reply);
  }
  box.className = "status-box good";
  box.textContent = S["check.pin_b.ok"];
  updateTries("visual_pin_b", reply.tries_left);
  return true;
}

function cardFaceCheckFailed(reply) {
  const box = $("status-progress");
  if (reply.pin === "visual_pin_b" && typeof reply.tries_left === "number") updateTries("visual_pin_b", reply.tries_left);
  if (reply.reason === "WRONG_PIN" && reply.pin === "visual_pin_b") {
    backToCardFace(typeof reply.tries_left === "number" ? fmt(S["err.pin_b.wrong"], { N: reply.tries_left }) : reply.fix);
  } else if (reply.reason === "MALFORMED_PIN") {
    backToCardFace(S["err.fix_fields"]);
  } else if (reply.reason === "PIN_BLOCKED" && reply.pin === "visual_pin_b") {
    box.className = "status-box bad";
    box.textContent = S["err.pin_b.blocked"];
  } else {
    // The card moved, the reader went away…: nothing was learnt about the items; try again.
    box.className = "status-box bad";
    box.textContent = `${S["check.pin_b.failed"]} ${reply.fix || ""}`;
    $("status-retry").hidden = false;
  }
  return false;
}

// Back to the first sub-step with the items as typed, so the resident can check them on the card.
function backToCardFace(message) {
  const typed = memory.typed;
  memory.items = null;
  memory.typed = null;
  memory.pin = null;
  $("pin").value = "";
  show("card_face");
  for (const field of ["birth_date", "expiry_date", "security_code"]) {
    if (typed) $(field).value = typed[field];
  }
  showBoth("birth_date");
  showBoth("expiry_date");
  const box = $("card-face-error");
  box.textContent = message || S["err.fix_fields"];
  // The message sits under the three items: bring both into view, start at the first item.
  $("birth_date").focus({ preventScroll: true });
  box.scrollIntoView({ block: "end" });
}

function updateTries(kind, triesLeft) {
  if (!lastStatus || !lastStatus.pins[kind] || typeof triesLeft !== "number") return;
  lastStatus.pins[kind].tries_left = triesLeft;
  lastStatus.pins[kind].blocked = triesLeft === 0;
  renderStatus(lastStatus.pins, lastStatus.certs);
}

// A modal question: resolves true for `yes`, false for `no` or Escape. Focus starts on `no`,
// the choice that spends and loses nothing.
function ask(dialogId, yesId, noId) {
  const dialog = $(dialogId);
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.close();
      $(yesId).removeEventListener("click", yes);
      $(noId).removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    $(yesId).addEventListener("click", yes);
    $(noId).addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
    $(noId).focus();
  });
}

const LAST_TRY_CONFIRM_LABEL = $("last-try-confirm").textContent;
// kind: "pin" (the password the resident knows) or "pin_b" (the card-face items).
function confirmLastTry(kind = "pin") {
  $("last-try-text").textContent = kind === "pin_b" ? S["lasttry.pin_b.text"] : fmt(S["lasttry.text"], { K: S["known"] });
  $("last-try-confirm").textContent = kind === "pin_b" ? S["lasttry.pin_b.confirm"] : LAST_TRY_CONFIRM_LABEL;
  return ask("last-try-dialog", "last-try-confirm", "last-try-cancel");
}

// A format error goes away once the format is right (a wrong password's message stays: only the
// card can say whether the new one is right).
$("pin").addEventListener("input", () => {
  const input = $("pin");
  if (input.dataset.formatError && !checkPassword(KNOWN_KEY, input.value).error) {
    input.removeAttribute("aria-invalid");
    delete input.dataset.formatError;
    $("pin-error").textContent = "";
  }
});

$("status-retry").addEventListener("click", loadCardStatus);

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const checked = checkPassword(KNOWN_KEY, $("pin").value);
  const input = $("pin");
  if (checked.error) {
    input.setAttribute("aria-invalid", "true");
    input.dataset.formatError = "true";
    $("pin-error").textContent = S[`err.pin.${checked.error}`];
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  delete input.dataset.formatError;
  $("pin-error").textContent = "";
  memory.confirmLastTry = false;
  if (memory.knownTries === 1) {
    if (!(await confirmLastTry())) { input.focus(); return; }
    memory.confirmLastTry = true;
  }
  if (!(await progress("password"))) return;
  memory.pin = checked.value;
  input.value = "";
  show("chip");
  readChip();
});

// ---------------------------------------------------------------- 4. chip read
function chipStatus(text, value) {
  $("chip-status").textContent = text;
  if (value !== undefined) $("chip-progress").value = value;
}

// A read that stopped because the card was not on the reader waits for it (chipCardMoved).
// A VERIFY cut short may have spent a try (verify_interrupted): that part of the message stays.
const CARD_GONE = new Set(["NO_CARD", "CARD_REMOVED"]);
let chipWaitsForCard = false;
let chipKeepError = false;

function failChip(message, reply = {}) {
  // The read has stopped: no progress bar or "reading…" line next to the reason it stopped.
  chipWaitsForCard = CARD_GONE.has(reply.reason);
  chipKeepError = Boolean(reply.verify_interrupted);
  $("chip-card-back").hidden = true;
  $("chip-tries").textContent = "";
  $("chip-running").hidden = true;
  $("chip-cancel").hidden = true;
  $("chip-error").textContent = message;
  $("chip-retry-row").hidden = false;
  $("chip-retry").focus();
}

const EVIDENCE_FIELDS = ["jpki_certificate", "jpki_signature", "card_face", "cv_certificate", "card_key_signature", "auth_certificate"];

// After a read stopped for want of the card, each READER event (docs/bridge-protocol.md, "Pushed
// messages") re-reads the readers, and the selected one says whether the card is back: the "not
// on the reader" error is then stale, so it goes, and the page says the card is back. The read
// itself waits for 「もう一度読み取る」: each read may spend the server's limits and, after an
// interrupted VERIFY, a try, so it is never started without the resident.
function chipCardMoved(reader) {
  if (!chipWaitsForCard || $("step-chip").hidden) return;
  const back = Boolean(reader && reader.card_present && !reader.card_mute);
  const box = $("chip-error");
  if (back && !chipKeepError) box.textContent = "";
  else if (!back && !box.textContent) box.textContent = S["reader.card_absent"]; // taken away again
  const note = $("chip-card-back");
  if (back && note.hidden) {
    note.textContent = S["chip.card_back"];
    rereadChipTries();
  }
  if (!back) $("chip-tries").textContent = ""; // what is put back may be another card
  note.hidden = !back;
}

// The card's own count of the known password's tries, read again (GET_CARD_STATUS: empty
// VERIFYs, no try spent) once the card is back after a read stopped: the interrupted RESERVE may
// have spent one (verify_interrupted), and the card may have been used elsewhere meanwhile.
// 「もう一度読み取る」 waits for it, so the last-try question follows the card, not the page.
let chipTriesRead = null;

function rereadChipTries() {
  chipTriesRead = readChipTries();
  return chipTriesRead;
}

async function readChipTries() {
  let reply;
  try {
    reply = await bridge.request("GET_CARD_STATUS");
  } catch {
    return; // taken away again, or the helper went: the bridge's last-try guard still holds
  }
  const known = rememberStatus(reply).pins[KNOWN_PIN] || {};
  showKnownTries(known.tries_left);
  memory.confirmLastTry = false; // a "yes" given for the page's old count does not carry over
  if (known.blocked || known.tries_left === 0) { chipPinBlocked(); return; }
  const away = chipWaitsForCard && $("chip-card-back").hidden; // taken away again meanwhile
  if (typeof known.tries_left === "number" && !away) {
    $("chip-tries").textContent = fmt(S["chip.tries"], { K: S["known"], N: known.tries_left });
  }
}

function chipPinBlocked() {
  memory.pin = null;
  failChip(S["err.pin.blocked"]);
  $("chip-retry-row").hidden = true;
}

async function readChip() {
  chipWaitsForCard = false;
  $("chip-card-back").hidden = true;
  $("chip-running").hidden = false;
  $("chip-error").textContent = "";
  $("chip-retry-row").hidden = true;
  chipStatus(S["chip.nonce"], 10);
  const issued = await postJson(config.nonceUrl, {});
  if (!issued.data.ok) { failChip(issued.data.message || S["chip.failed"]); return; }
  chipStatus(S["chip.reading"], 30);
  $("chip-cancel").hidden = false;
  let evidence;
  try {
    evidence = await bridge.request("RESERVE", {
      key: KNOWN_KEY,
      pin: memory.pin,
      birth_date: memory.items.birth_date,
      expiry_date: memory.items.expiry_date,
      security_code: memory.items.security_code,
      purpose: issued.data.purpose, // the server's purpose for this target (docs/internal-api.md)
      nonce: issued.data.nonce,
      confirm_last_try: memory.confirmLastTry,
    });
  } catch (error) {
    $("chip-cancel").hidden = true;
    handleBridgeFailure(error);
    return;
  }
  $("chip-cancel").hidden = true;
  chipStatus(S["chip.sending"], 85);
  const body = { nonce: issued.data.nonce, jpki_key: evidence.jpki_key || KNOWN_KEY };
  for (const field of EVIDENCE_FIELDS) body[field] = evidence[field];
  if (evidence.origin) body.origin = evidence.origin;
  if (evidence.purpose) body.purpose = evidence.purpose;
  const verdict = await postJson(config.evidenceUrl, body);
  if (!verdict.data.ok) { failChip(verdict.data.message || S["chip.failed"]); return; }
  const photo = evidence.photo || "";
  try { sessionStorage.setItem("myna.chipPhoto", photo); } catch { /* private mode: face page will say so */ }
  forget();
  chipStatus(S["chip.ok"], 100);
  window.location.assign(verdict.data.next || config.nextUrl);
}

function handleBridgeFailure(error) {
  const reply = (error && error.reply) || {};
  const reason = reply.reason || "";
  const pinKind = reply.pin || "";
  if (reason === "WRONG_PIN" && pinKind === "visual_pin_b") {
    // Checked when the card was placed; a card swapped since can still get here. The items come
    // back into the form, so only the wrong one needs retyping.
    backToCardFace(typeof reply.tries_left === "number" ? fmt(S["err.pin_b.wrong"], { N: reply.tries_left }) : reply.fix);
    return;
  }
  if (pinKind) updateTries(pinKind, reply.tries_left);
  if (reason === "WRONG_PIN" || reason === "MALFORMED_PIN" || reason === "LAST_TRY_CONFIRMATION_REQUIRED") {
    memory.pin = null;
    const tries = typeof reply.tries_left === "number" ? reply.tries_left : memory.knownTries;
    show("password");
    showPasswordForm(tries);
    if (reason === "WRONG_PIN") $("pin-error").textContent = fmt(S["err.pin.wrong"], { N: tries });
    else $("pin-error").textContent = reply.fix || S["err.pin.required"];
    $("pin").setAttribute("aria-invalid", "true");
    $("pin").focus();
    return;
  }
  if (reason === "PIN_BLOCKED") {
    chipPinBlocked();
    return;
  }
  failChip(reply.fix || S["chip.failed"], reply);
  // The card may be back already (its event came before this reply): ask rather than wait.
  if (chipWaitsForCard) refreshReaders();
  // Cut short mid-VERIFY with the card still there: its count may have changed all the same.
  else if (reply.verify_interrupted) rereadChipTries();
}

$("chip-cancel").addEventListener("click", () => { if (bridge) bridge.cancel(); });
$("chip-retry").addEventListener("click", async () => {
  const button = $("chip-retry");
  if (button.disabled) return;
  button.disabled = true;
  await chipTriesRead; // the card's own count, when it is being read again
  button.disabled = false;
  if ($("chip-retry-row").hidden) return; // the password is locked: nothing to read
  if (!memory.pin || !memory.items) { show("password"); return; }
  if (memory.knownTries === 1 && !memory.confirmLastTry) {
    if (!(await confirmLastTry())) { askPasswordAgain(); return; }
    memory.confirmLastTry = true;
  }
  readChip();
});

// The resident would rather not spend the last try on the password held: it is dropped, and the
// password step shows the card's count, to check the password first or stop here.
function askPasswordAgain() {
  memory.pin = null;
  show("password");
  showPasswordForm(memory.knownTries);
  $("pin").focus();
}

// ---------------------------------------------------------------- leaving the page
// The card-face items and the password live in this page only (docs/wizard.md), so a reload or a
// language switch loses them. Say so: before a language switch (the page's own control), and
// after a reload or Back/Forward (the browser's). Only a flag that something was lost is kept in
// sessionStorage, never a value.
const LOST_FLAG = "myna.cardFormLost";
const SECRET_FIELDS = ["birth_date", "expiry_date", "security_code", "pin"];

function typedSomething() {
  return Boolean(memory.items || memory.pin) || SECRET_FIELDS.some((id) => $(id).value !== "");
}

const langForm = document.querySelector("form.lang-switch");
if (langForm) {
  langForm.addEventListener("submit", async (event) => {
    if (!typedSomething()) return;
    event.preventDefault();
    if (await ask("lang-switch-dialog", "lang-switch-go", "lang-switch-stay")) {
      forget();
      langForm.submit(); // no submit event: asked once
    } else {
      $("lang-select").value = document.documentElement.lang;
    }
  });
}

document.querySelector("form.cancel-form").addEventListener("submit", forget);

window.addEventListener("pagehide", () => {
  try {
    if (typedSomething()) sessionStorage.setItem(LOST_FLAG, "1");
    else sessionStorage.removeItem(LOST_FLAG);
  } catch { /* storage unavailable: no notice after a reload */ }
  forget();
});

function noticeLostInput() {
  let lost = false;
  try {
    lost = sessionStorage.getItem(LOST_FLAG) === "1";
    sessionStorage.removeItem(LOST_FLAG);
  } catch { /* storage unavailable */ }
  // The server already says so when it rewound a later sub-step (#card-rewound).
  if (lost && !$("card-rewound")) $("card-reloaded").hidden = false;
}

// ---------------------------------------------------------------- start
$("wizard").hidden = false;
noticeLostInput();
show("card_face");
