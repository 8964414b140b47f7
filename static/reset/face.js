// Face check page module (templates/reset/_face_check.html; protocol in docs/internal-api.md,
// "face check"). The server chooses the prompts and decides; this page only shows them and sends
// camera frames. Frames are captured unmirrored (the preview is mirrored by CSS only), so "left"
// means the resident's own left (docs/faceverify.md). Nothing is stored: the chip photo is read
// from sessionStorage and removed from it once the decision is final.
const root = document.getElementById("face-check");

const PHOTO_KEY = "myna.chipPhoto";
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
};

let photo = null; // base64 chip photo, in memory for retries within this page
let stream = null;
let socket = null;
let running = false;
let frameTimer = 0;
let prompt = { index: -1, total: 0 };
let decided = false;

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
  stream.getVideoTracks().forEach((track) =>
    track.addEventListener("ended", () => {
      if (!socket) return;
      finish();
      say(ui.error, S.camera_busy);
      ui.retry.hidden = false;
    }),
  );
  await ui.video.play().catch(() => {});
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
      interval = Math.max(100, Number(message.frame_interval_ms) || 100);
      running = true;
      sentAt = 0;
      scheduleFrame();
      break;
    case "prompt":
      prompt = { index: message.index, total: message.total };
      showPrompt(message.prompt, message.text);
      say(ui.advice, "");
      ui.stage.classList.add("is-good");
      break;
    case "progress": {
      const needed = Math.max(1, message.needed);
      ui.meter.max = needed;
      ui.meter.value = Math.min(message.held, needed);
      const template = prompt.index < 0 ? S.calibrating : S.progress;
      say(ui.progress, fmt(template, { index: prompt.index + 1, total: prompt.total, held: message.held, needed }));
      if (message.held > 0) say(ui.advice, "");
      scheduleFrame();
      break;
    }
    case "advice":
      say(ui.advice, message.text);
      ui.stage.classList.remove("is-good");
      break;
    case "error":
      if (FATAL.has(message.reason)) {
        finish();
        say(ui.error, message.text);
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
    showPrompt("smile", S.passed);
    ui.meter.value = ui.meter.max;
    const next = root.dataset.next;
    if (next) window.setTimeout(() => window.location.assign(next), 800);
    return;
  }
  showPrompt("face_front", S.failed);
  const left = Number(result.attempts_left) || 0;
  say(ui.error, [result.text, left > 0 ? fmt(S.attempts_left, { n: left }) : ""].join(" ").trim());
  const shown = document.getElementById("face-attempts");
  if (shown) say(shown, left > 0 ? fmt(S.attempts_left, { n: left }) : S.no_attempts);
  if (left > 0) {
    ui.retry.hidden = false;
  } else {
    forgetPhoto(); // final: the counter (市区町村窓口) takes over
    ui.counter.hidden = false;
  }
}

function finish() {
  stopFrames();
  stopCamera();
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
  prompt = { index: -1, total: 0 };
  socket.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "reference", photo }));
  });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", (event) => {
    // A socket this page closed itself (finish() after a result, a fatal error or a lost camera)
    // has already said why; only a close the page did not ask for is explained here.
    if (socket !== ws) return;
    if (decided || (!running && event.code === 1000)) return; // decided, or closed after a fatal error
    const refused = !running; // never got "ready": the server refused the attempt
    finish();
    say(ui.error, refused ? S.refused : S.network);
    ui.retry.hidden = refused;
  });
}

async function begin() {
  say(ui.error, "");
  say(ui.advice, "");
  ui.counter.hidden = true;
  ui.retry.hidden = true;
  ui.start.disabled = true;
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
    return;
  }
  showPrompt("face_front", S.face_front_first);
  connect();
}

if (root) {
  // The page was opened by the card page's script: start where the resident reads, not at the top.
  const heading = document.getElementById("face-heading");
  if (heading) heading.focus();
  ui.start.addEventListener("click", begin);
  ui.retry.addEventListener("click", begin);
  if (!readPhoto()) noPhoto();
  window.addEventListener("pagehide", () => {
    stopFrames();
    stopCamera();
  });
}
