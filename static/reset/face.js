// Face check page module (templates/reset/_face_check.html; protocol in docs/internal-api.md,
// "face check"). The server chooses the prompts and decides; this page only shows them and sends
// camera frames. Frames are captured unmirrored (the preview is mirrored by CSS only), so "left"
// means the resident's own left (docs/faceverify.md). Nothing is stored: the chip photo is read
// from sessionStorage and removed from it once the decision is final.
//
// Accessibility (issue 18, docs/faceverify.md "The page"): every prompt, the time warning and the
// result are written to an aria-live region and, with the switch on, spoken (face-voice.js); a
// tone marks "hold still" and "done"; where the face is comes from the server in words. The
// time per prompt is the server's: the page names a pace and may ask for more time.
import { createVoice } from "./face-voice.js";

const root = document.getElementById("face-check");

const PHOTO_KEY = "myna.chipPhoto";
const PACE_KEY = "myna.facePace";
const MAX_WIDTH = 640;
const JPEG_QUALITY = 0.8;
// Inline SVG symbols of templates/reset/_face_check.html (emoji fonts are not everywhere).
const ICONS = new Set(["turn_left", "face_front", "smile"]);
// Errors that end the attempt (the server closes the socket after them).
const FATAL = new Set(["wrong_reference", "reference_unusable"]);

const $ = (id) => document.getElementById(id);
const S = Object.fromEntries(
  [...document.querySelectorAll("#face-strings [data-key]")].map((el) => [el.dataset.key, el.textContent.trim()]),
);
const fmt = (text, values) =>
  Object.entries(values).reduce((out, [k, v]) => out.split(`%${k}`).join(String(v)), text || "");

const ui = {
  prompt: $("face-prompt-text"),
  icon: $("face-prompt-icon"),
  stage: $("face-stage"),
  video: $("face-video"),
  meter: $("face-meter"),
  progress: $("face-progress"),
  advice: $("face-advice"),
  error: $("face-error"),
  start: $("face-start"),
  retry: $("face-retry"),
  counter: $("face-counter"),
  where: $("face-where"),
  time: $("face-time"),
  moreTime: $("face-more-time"),
  options: $("face-options"),
  attempts: $("face-attempts"),
  paces: [...document.querySelectorAll("input[name=face-pace]")],
};
const voice = root
  ? createVoice({
      region: $("face-announce"),
      toggle: $("face-voice"),
      defaultOn: root.dataset.voiceDefault === "on",
    })
  : null;

let photo = null; // base64 chip photo, in memory for retries within this page
let stream = null;
let socket = null;
let running = false;
let lost = false; // the camera went away before the server answered the photo
let frameTimer = 0;
let prompt = { index: -1, total: 0 };
let decided = false;
let held = 0;
// Tries left as the server counted them when it charged this attempt (its "ready"); null until
// then. An attempt that ends without a decision (camera or connection lost) is not given back,
// so this is what the page shows afterwards: never a guess.
let counted = null;

// The current phase's time, as the server gave it (`seconds` of ready / prompt / time); shown,
// and warned about once before it runs out (WCAG 2.2.1), with 「時間を延ばす」 always at hand.
const clock = { endsAt: 0, warned: false, timer: 0 };

function startClock(seconds) {
  const total = Number(seconds) || 0;
  if (total <= 0) return;
  clock.endsAt = performance.now() + total * 1000;
  clock.warnAt = Math.min(20, total / 2);
  clock.warned = false;
  clearInterval(clock.timer);
  clock.timer = setInterval(tick, 1000);
  ui.time.hidden = false;
  tick();
}

function tick() {
  const left = Math.max(0, Math.round((clock.endsAt - performance.now()) / 1000));
  say(ui.time, fmt(S.time_left, { s: left }));
  if (!clock.warned && left > 0 && left <= clock.warnAt) {
    clock.warned = true;
    voice.announce(fmt(S.time_warning, { s: left }));
  }
}

function stopClock() {
  clearInterval(clock.timer);
  ui.time.hidden = true;
  ui.moreTime.hidden = true;
}

function chosenPace() {
  const checked = ui.paces.find((input) => input.checked);
  return checked ? checked.value : "standard";
}

function restorePace() {
  let saved = null;
  try {
    saved = localStorage.getItem(PACE_KEY);
  } catch {
    /* storage off: the first choice holds */
  }
  const match = ui.paces.find((input) => input.value === saved);
  if (match) match.checked = true;
  ui.paces.forEach((input) =>
    input.addEventListener("change", () => {
      try {
        localStorage.setItem(PACE_KEY, chosenPace());
      } catch {
        /* storage off */
      }
    }),
  );
}

function readPhoto() {
  try {
    return sessionStorage.getItem(PHOTO_KEY);
  } catch {
    return null;
  }
}

function forgetPhoto() {
  photo = null;
  try {
    sessionStorage.removeItem(PHOTO_KEY);
  } catch {
    /* storage unavailable: nothing was kept there */
  }
}

function noPhoto() {
  say(ui.error, S.no_photo);
  ui.start.hidden = true;
  const reread = document.getElementById("face-reread");
  if (reread) reread.hidden = false;
}

function say(el, text) {
  el.textContent = text || "";
}

function showPrompt(name, text) {
  const use = ui.icon.querySelector("use");
  if (use) use.setAttribute("href", `#prompt-${ICONS.has(name) ? name : "face_front"}`);
  say(ui.prompt, text || S[`prompt_${name}`] || "");
}

// Shown as the prompt and said: what the resident must do now.
function showAndAnnounce(name, text) {
  showPrompt(name, text);
  voice.announce(ui.prompt.textContent);
}

function cameraError(error) {
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError") return S.camera_denied;
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return S.camera_missing;
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return S.camera_busy;
  return S.camera_busy;
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("unsupported");
  stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } },
  });
  ui.video.srcObject = stream;
  // The camera can go away mid-attempt (unplugged, taken by another app): say so instead of
  // sending a frozen picture the server would refuse as a static image. stop() fires no "ended".
  stream.getVideoTracks().forEach((track) => track.addEventListener("ended", cameraLost));
  await ui.video.play().catch(() => {});
}

// The camera went away during the attempt. Whether the server counted it depends on how far it
// got: after "ready" it did (and said how many are left); with the photo sent and no answer yet,
// the answer is waited for; before the socket opened nothing was sent, so nothing was counted.
function cameraLost() {
  if (!socket) return;
  if (!running && socket.readyState === WebSocket.OPEN) {
    stopFrames();
    stopCamera();
    lost = true; // onMessage ends the attempt when the server answers the photo
    showPrompt("face_front", S.interrupted);
    say(ui.error, S.camera_busy);
    return;
  }
  const left = running ? counted : null;
  finish();
  interrupted(S.camera_busy, left);
}

// An attempt ended without a decision: no prompt is left standing, and when the server counted
// the try the page says so, with the tries left the server gave (docs/faceverify.md "The page").
function interrupted(reason, left) {
  showPrompt("face_front", S.interrupted);
  const known = typeof left === "number";
  const tries = known ? [S.interrupted_counted, left > 0 ? fmt(S.attempts_left, { n: left }) : S.no_attempts] : [];
  say(ui.error, [reason, ...tries].join(" "));
  voice.announce(`${S.interrupted} ${ui.error.textContent}`);
  if (known) showAttemptsLeft(left);
  if (known && left <= 0) {
    noAttemptsLeft();
    return;
  }
  ui.retry.hidden = false;
  ui.retry.focus();
}

function showAttemptsLeft(left) {
  if (ui.attempts) say(ui.attempts, left > 0 ? fmt(S.attempts_left, { n: left }) : S.no_attempts);
}

// Final: the counter (市区町村窓口) takes over; nothing on the page may suggest another try.
function noAttemptsLeft() {
  forgetPhoto();
  ui.counter.hidden = false;
  ui.options.hidden = true;
}

function stopCamera() {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  ui.video.srcObject = null;
}

function stopFrames() {
  running = false;
  clearTimeout(frameTimer);
}

// One frame in flight: the next is captured only after the server answered the last one
// ("progress", "result" or "error"), and never sooner than frame_interval_ms after it was sent.
let interval = 100;
let sentAt = 0;
const canvas = document.createElement("canvas");

function scheduleFrame() {
  if (!running) return;
  const wait = Math.max(0, interval - (performance.now() - sentAt));
  frameTimer = setTimeout(sendFrame, wait);
}

function sendFrame() {
  if (!running || !socket || socket.readyState !== WebSocket.OPEN) return;
  const width = ui.video.videoWidth;
  const height = ui.video.videoHeight;
  if (!width || !height) {
    frameTimer = setTimeout(sendFrame, interval);
    return;
  }
  const scale = Math.min(1, MAX_WIDTH / width);
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.getContext("2d").drawImage(ui.video, 0, 0, canvas.width, canvas.height); // unmirrored
  canvas.toBlob(
    async (blob) => {
      if (!blob || !running || socket.readyState !== WebSocket.OPEN) return;
      sentAt = performance.now();
      socket.send(await blob.arrayBuffer());
    },
    "image/jpeg",
    JPEG_QUALITY,
  );
}

function onMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  switch (message.type) {
    case "ready":
      counted = Number(message.attempts_left);
      if (!Number.isFinite(counted)) counted = null;
      if (lost) { // the camera went away while the server was charging this try
        finish();
        interrupted(S.camera_busy, counted);
        break;
      }
      interval = Math.max(100, Number(message.frame_interval_ms) || 100);
      running = true;
      sentAt = 0;
      startClock(message.seconds);
      ui.moreTime.hidden = false;
      ui.moreTime.disabled = false;
      ui.moreTime.focus(); // 開始 is disabled now; the one control that helps during the check
      scheduleFrame();
      break;
    case "waiting":
      // The server's face workers are busy with other checks: the resident is told to wait
      // (not once the camera is gone: the page already says the try was cut short).
      if (lost) break;
      say(ui.advice, S.waiting);
      voice.announce(S.waiting);
      break;
    case "pace":
      // The server's face workers are busy: send frames less often (or more often again).
      interval = Math.max(100, Number(message.frame_interval_ms) || interval);
      break;
    case "prompt":
      voice.tone("done"); // the calibration or the previous prompt is done
      prompt = { index: message.index, total: message.total };
      held = 0;
      showAndAnnounce(message.prompt, message.text);
      say(ui.advice, "");
      ui.stage.classList.add("is-good");
      startClock(message.seconds);
      ui.moreTime.disabled = false;
      break;
    case "progress": {
      const needed = Math.max(1, message.needed);
      ui.meter.max = needed;
      ui.meter.value = Math.min(message.held, needed);
      const template = prompt.index < 0 ? S.calibrating : S.progress;
      const progress = fmt(template, { index: prompt.index + 1, total: prompt.total, held: message.held, needed });
      if (ui.progress.textContent !== progress) say(ui.progress, progress); // unchanged: not re-read
      if (message.held > 0) say(ui.advice, "");
      if (message.held > 0 && held === 0 && prompt.index >= 0) voice.tone("hold"); // hold still
      held = message.held;
      scheduleFrame();
      break;
    }
    case "advice":
      say(ui.advice, message.text);
      voice.hint(message.text);
      ui.stage.classList.remove("is-good");
      break;
    case "placement":
      // Where the face is against the oval, in words (the server measures it on each frame).
      if (ui.where.textContent !== message.text) {
        say(ui.where, message.text);
        voice.hint(message.text);
      }
      break;
    case "time":
      if (message.extended) {
        startClock(message.seconds);
        voice.announce(fmt(S.time_extended, { s: message.seconds }));
      } else {
        ui.moreTime.disabled = true;
        voice.announce(S.time_refused);
      }
      break;
    case "error":
      if (FATAL.has(message.reason)) {
        finish();
        say(ui.error, message.text);
        voice.announce(message.text);
        if (message.reason === "wrong_reference") { // stale photo: re-read the card
          forgetPhoto();
          const reread = document.getElementById("face-reread");
          if (reread) reread.hidden = false;
        }
        ui.counter.hidden = message.reason !== "reference_unusable";
      } else {
        scheduleFrame(); // a frame was refused; the attempt goes on
      }
      break;
    case "result":
      decided = true;
      onResult(message);
      break;
    default:
      break;
  }
}

function onResult(result) {
  finish();
  if (result.passed) {
    forgetPhoto();
    showAndAnnounce("smile", S.passed);
    voice.tone("done");
    ui.meter.value = ui.meter.max;
    ui.options.hidden = true; // decided: the pace and voice no longer apply
    const next = root.dataset.next;
    if (next) window.setTimeout(() => window.location.assign(next), 800);
    return;
  }
  showPrompt("face_front", S.failed);
  const left = Number(result.attempts_left) || 0;
  say(ui.error, [result.text, left > 0 ? fmt(S.attempts_left, { n: left }) : ""].join(" ").trim());
  voice.announce(`${S.failed} ${ui.error.textContent}`);
  showAttemptsLeft(left);
  if (left > 0) {
    ui.retry.hidden = false;
    ui.retry.focus();
  } else {
    noAttemptsLeft();
  }
}

// The attempt is over, whatever ended it: nothing of it stays on screen as if it were running
// (the prompt is replaced by whoever called this: the result, or why it stopped).
function finish() {
  stopFrames();
  stopCamera();
  stopClock();
  setOptionsLocked(false);
  lost = false;
  say(ui.where, "");
  say(ui.progress, "");
  say(ui.advice, "");
  ui.meter.value = 0;
  ui.stage.classList.remove("is-good");
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  socket = null;
  ui.start.hidden = true;
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${window.location.host}${root.dataset.wsPath}`);
  socket = ws;
  socket.binaryType = "arraybuffer";
  decided = false;
  counted = null;
  lost = false;
  prompt = { index: -1, total: 0 };
  socket.addEventListener("open", () => {
    // The pace is only named: the server decides the seconds it means (reset/face_pace.py).
    ws.send(JSON.stringify({ type: "reference", photo, pace: chosenPace() }));
  });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", (event) => {
    // A socket this page closed itself (finish() after a result, a fatal error or a lost camera)
    // has already said why; only a close the page did not ask for is explained here.
    if (socket !== ws) return;
    if (decided || (!running && event.code === 1000)) return; // decided, or closed after a fatal error
    const refused = !running; // never got "ready": the server refused the attempt
    finish();
    if (!refused) {
      interrupted(S.network, counted); // counted at "ready", and not given back
      return;
    }
    say(ui.error, S.refused);
    voice.announce(ui.error.textContent);
    ui.retry.hidden = true;
  });
}

async function begin() {
  say(ui.error, "");
  say(ui.advice, "");
  ui.counter.hidden = true;
  ui.retry.hidden = true;
  ui.start.disabled = true;
  voice.unlock(); // a user gesture: tones may play from now on
  photo = photo || readPhoto();
  if (!photo) {
    noPhoto();
    ui.start.disabled = false;
    return;
  }
  say(ui.prompt, S.starting);
  try {
    await openCamera();
  } catch (error) {
    ui.start.hidden = false; // also after a retry: the resident fixes the camera and starts again
    ui.start.disabled = false;
    say(ui.prompt, S.start);
    say(ui.error, error && error.message === "unsupported" ? S.camera_unsupported : cameraError(error));
    voice.announce(ui.error.textContent);
    return;
  }
  showAndAnnounce("face_front", S.face_front_first);
  setOptionsLocked(true); // the pace goes with this attempt; a retry may change it
  connect();
}

function setOptionsLocked(locked) {
  ui.paces.forEach((input) => {
    input.disabled = locked;
  });
}

function askForMoreTime() {
  if (!socket || socket.readyState !== WebSocket.OPEN || !running) return;
  socket.send(JSON.stringify({ type: "more_time" }));
}

if (root) {
  // The page was opened by the card page's script: start where the resident reads, not at the top.
  const heading = document.getElementById("face-heading");
  if (heading) heading.focus();
  ui.start.addEventListener("click", begin);
  ui.retry.addEventListener("click", begin);
  ui.moreTime.addEventListener("click", askForMoreTime);
  restorePace();
  if (!readPhoto()) noPhoto();
  window.addEventListener("pagehide", () => {
    stopFrames();
    stopCamera();
  });
}
