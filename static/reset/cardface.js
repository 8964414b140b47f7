// 「カメラで読み取る」: one still of the card's front, read on the server, used to fill the form.
//
// The camera shows a black guide frame shaped like the card (ISO ID-1, 85.6 x 54 mm), as the
// official app does. One still, cropped to the frame plus a margin (so the card's edges stay
// visible to the server), is sent ONCE to the server, which reads it and discards it; the camera
// is stopped right after. The answer only fills the fields `birth_date`, `expiry_date` and
// `security_code`, with the confidence shown beside each; the resident checks them against the
// card and presses 次へ themselves: this module never submits anything.
//
// Live reading (issue 15): with `burstEndpoint`, frames are analysed continuously while the
// guide frame is shown. Here in the browser only cheap measures run: on a small grey copy of
// the guide's crop, is there a bright card-shaped (ID-1) area, how wide is it in camera pixels,
// does the picture move; on the card's own pixels, how sharp is it. The resident is told to
// come closer or hold still, the frame turns green while the card is steady, and the sharpest
// steady frames are then sent ONCE as a burst (kept in memory only) for the server to OCR (a
// small card's frames are averaged there, so more of them are sent). 撮影する stays for a manual
// still; on a small card it takes two seconds of frames instead and sends the sharpest as a
// burst. When a live burst gives some of the values but not all, the camera comes back for the
// rest: each frame is still sent once, in up to LIVE_BURSTS bursts, and the camera is off during
// each upload; it stops for good when the panel is closed or the step is left.
//
// Used by wizard.js: `start({ form, container, endpoint, burstEndpoint, csrfToken, onFilled })`.

const ID1_ASPECT = 85.6 / 54;
const GUIDE_SHARE = 0.8; // the frame spans this share of the picture's width
const MARGIN_SHARE = 0.08; // of the frame's width, kept around it in the still
const MAX_SIDE = 1600; // the server works at this size at most; more is only upload time
const JPEG_QUALITY = 0.92;
const SURE = 0.95; // below this the confirmation note asks for an extra careful look
// Live analysis: the guide's crop scaled to this width, analysed every TICK_MS.
export const PROBE_WIDTH = 200;
const TICK_MS = 200;
// The card's width in the pixels the server gets (sentWidth) below which it cannot read it even
// from several frames averaged: come closer. cardface/burst.py gives the security code only
// from cards CODE_MIN_AVERAGED_WIDTH_PX (205 px) wide: below, the 8 of a code 0080 read as 5 in
// every reading. The probe's box measures about 5 px more than the server's card outline (206
// against 201 on that card's frames), hence 216: some 6 px to spare.
export const MIN_CARD_PX = 216;
// Below this width (sentWidth) the server averages frames (cardface/reader.py
// CODE_MIN_CARD_WIDTH_PX, 320 px), and the burst carries more of them; the probe's box measures
// about 5 px more than the server's outline (see MIN_CARD_PX), hence 330.
const SMALL_CARD_PX = 330;
// A bright area is card-shaped when its box is ID-1-like (1.585, generous for tilt) and the
// card's bright paper fills most of the box.
const CARD_ASPECT = [1.3, 1.95];
const MIN_FILL = 0.7;
const MIN_CONTRAST = 40;
// Mean absolute change of the probe between ticks (0-255 grey levels) above which the card is
// moving.
const MAX_MOTION = 6;
const STEADY_TICKS = 2; // steady ticks before frames are kept
// Sharpness is measured on the card's box at most this wide (camera pixels scaled down).
const SHARP_WIDTH = 320;
// A kept frame must be at least this share as sharp as the sharpest seen while steady.
const SHARP_SHARE = 0.5;
const BURST_FRAMES = 5;
// A small card's frames are averaged on the server, which reads far more bursts with 8 or more
// frames aligned than with 4-7 (bench steady bursts), so a small card's burst carries a few to spare.
const SMALL_BURST_FRAMES = 12;
// 撮影する on a card too small for one still (SMALL_CARD_PX): this many frames, this far apart
// (about two seconds), of which the SMALL_BURST_FRAMES sharpest are sent as a burst, as the live
// reading would. A hand that moves smears most frames, and the server needs about six unsmeared
// ones to stand on their average alone: of 40 bench hands (bench/cardface_bench.py
// burst_webcam_page_manual, before the 205 px floor), the 12 sharpest of 24 read 35, of the
// first 16 only 22; with the floor, 19 of 20 bench hands are read (12 of 20 with 16, before).
const MANUAL_BURST_TAKES = 24;
const MANUAL_BURST_GAP_MS = 80;
export const BURST_MAX_WIDTH = 1280; // each kept frame is scaled to at most this width
const WEAK_CAMERA_WIDTH = 1280; // below this the page says the camera is weak
// A live reading that read some of the values goes on by itself for the rest, up to this many
// bursts in all: each burst is read on its own, and on the page's 12-frame small-card burst
// about one in ten gives two of the three values (bench/cardface_bench.py).
const LIVE_BURSTS = 3;

const FIELDS = ["birth_date", "expiry_date", "security_code"];
// Japanese by default; `start({ strings })` may replace any of them with the page's translated
// text, under the same key prefixed "cardface." (see localised()).
const TEXT = {
  group: "カメラで読み取る",
  "field.birth_date": "生年月日",
  "field.expiry_date": "有効期限",
  "field.security_code": "セキュリティコード",
  filledList: "(%Lを入力しました)",
  listSeparator: "・",
  intro: "マイナンバーカード(表面)を黒わくにあわせてください。表面の内容(有効期限やマイナちゃんマーク)が隠れないようご注意ください。",
  privacy: "撮影した画像は読み取りのためにサーバーへ1回だけ送られ、読み取り後すぐに破棄されます(保存も記録もしません)。",
  capture: "撮影する",
  retake: "もう一度撮影する",
  close: "閉じる",
  starting: "カメラを起動しています…",
  ready: "カードを黒わくにあわせて「撮影する」を押してください。",
  live: "カードを黒わくにあわせてください。ピントが合うと自動で読み取ります(「撮影する」でも読み取れます)。",
  closer: "もう少し近づけてください",
  still: "動かさないでください",
  steady: "そのまま動かさないでください。読み取っています…",
  weakCamera: "このカメラは解像度が低いため、読み取れないことがあります。カードをカメラに近づけるか、下の欄に手で入力してください。",
  reading: "読み取っています…",
  done: "読み取った内容を下の欄に入力しました。カードと見比べて、正しいことを確認してから「次へ」を押してください。",
  partial: "読み取れた項目だけを入力しました。残りは手で入力し、すべてカードと見比べて確認してください。",
  more: "%Lを入力しました。残りの項目を続けて読み取ります。カードを黒わくにあわせたまま、動かさないでください。",
  conflict: "読み取るたびに%Lが異なったため、その欄を空にしました。カードを見ながら手で入力してください。",
  sure: "カメラで読み取りました(確からしさ %P%)。カードと見比べて確認してください。",
  unsure: "カメラで読み取りましたが、確からしさが低めです(%P%)。必ずカードと見比べて確認してください。",
  manual: "下の欄に手で入力することもできます。",
  noCamera: "カメラが見つかりません。下の欄に手で入力してください。",
  denied: "カメラの使用が許可されていません。ブラウザーの設定でカメラを許可するか、下の欄に手で入力してください。",
  busy: "カメラを起動できませんでした。ほかのアプリがカメラを使っていないか確認するか、下の欄に手で入力してください。",
  insecure: "この画面ではカメラを使えません(HTTPSでの接続が必要です)。下の欄に手で入力してください。",
  network: "サーバーに接続できませんでした。通信状態を確認して、もう一度撮影するか、下の欄に手で入力してください。",
  server: "読み取りに失敗しました。もう一度撮影するか、下の欄に手で入力してください。",
  tooLarge: "画像が大きすぎます。もう一度撮影してください。",
  // Fallbacks for the server's stable reason codes (it normally sends `message` itself).
  "reason.too_small": "カードが小さく写っています。マイナンバーカード(表面)を黒わくいっぱいにあわせて、もう一度撮影してください。",
  "reason.blurred": "写真がぼやけています。カードとカメラを動かさず、ピントが合ってから撮影してください。",
  "reason.glare": "照明が反射して文字が読めません。反射しない向きにカードを傾けて、もう一度撮影してください。",
  "reason.not_a_card": "マイナンバーカード(表面)が見つかりません。カードの表面を黒わくにあわせてください。",
  "reason.unreadable": "券面の文字を読み取れませんでした。もう一度撮影するか、下の欄に手で入力してください。",
};
let text = TEXT;

// TEXT with the page's translations laid over it: only known keys, only strings.
export function localised(strings = {}) {
  const out = { ...TEXT };
  for (const [key, value] of Object.entries(strings || {})) {
    if (!key.startsWith("cardface.") || typeof value !== "string" || !value) continue;
    const bare = key.slice("cardface.".length);
    if (Object.hasOwn(TEXT, bare)) out[bare] = value;
  }
  return out;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

// The guide frame in video pixels: centred, card-shaped, GUIDE_SHARE of the width (or of the
// height, for a portrait camera that could not fit it).
export function guideRect(width, height) {
  let w = width * GUIDE_SHARE;
  let h = w / ID1_ASPECT;
  if (h > height * 0.9) {
    h = height * 0.9;
    w = h * ID1_ASPECT;
  }
  return { x: (width - w) / 2, y: (height - h) / 2, w, h };
}

// The part of the frame that is sent: the guide plus a margin, clamped to the picture.
export function cropRect(width, height) {
  const g = guideRect(width, height);
  const m = g.w * MARGIN_SHARE;
  const x = Math.max(0, g.x - m);
  const y = Math.max(0, g.y - m);
  return { x, y, w: Math.min(width, g.x + g.w + m) - x, h: Math.min(height, g.y + g.h + m) - y };
}

// The card's width in the pixels the server gets, from its width in camera pixels: the crop
// is scaled to at most `maxSide` before it is sent (stillFromVideo). Every size the page
// compares is the server's, so that on a 1920x1080 camera (a burst scaled by 0.72) a card 300
// camera pixels wide, which arrives 215 wide, is asked closer, and one that arrives under
// SMALL_CARD_PX gets the small card's burst.
export function sentWidth(cardPx, crop, maxSide) {
  return cardPx * sendScale(crop, maxSide);
}

// The scale at which the crop is sent: at most `maxSide` on its longer side, never enlarged.
function sendScale(crop, maxSide) {
  return Math.min(1, maxSide / Math.max(crop.w, crop.h));
}

// "1985-07-23" → "1985/07/23", the form's own example format.
export function formValue(name, value) {
  return name === "security_code" ? value : value.replaceAll("-", "/");
}

function cameraError(exc) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return text.insecure;
  switch (exc && exc.name) {
    case "NotAllowedError":
    case "SecurityError":
      return text.denied;
    case "NotFoundError":
    case "OverconstrainedError":
      return text.noCamera;
    default:
      return text.busy;
  }
}

function confidenceNote(input, confidence) {
  const id = `${input.name}-cardface`;
  let note = document.getElementById(id);
  if (!note) {
    note = el("p", { id, class: "note cardface-confidence", "aria-live": "polite" });
    input.insertAdjacentElement("afterend", note);
    const described = input.getAttribute("aria-describedby") || "";
    if (!described.split(/\s+/).includes(id)) input.setAttribute("aria-describedby", `${described} ${id}`.trim());
    // Once the resident types over what the camera filled, the note no longer speaks of it
    // (fillForm's own events are not typing; no copy of the value is kept for the check).
    input.addEventListener("input", () => {
      if (!filling) note.textContent = "";
    });
  }
  const percent = Math.floor(confidence * 100);
  note.textContent = (confidence >= SURE ? text.sure : text.unsure).replace("%P", String(percent));
  note.classList.toggle("unsure", confidence < SURE);
}

function clearNotes() {
  for (const name of FIELDS) {
    const note = document.getElementById(`${name}-cardface`);
    if (note) note.textContent = "";
  }
}

// True while fillForm sets a box: its events are the camera's, not the resident's typing.
let filling = false;

// A box set by the camera, with the events a typed value would fire (the wizard checks it).
function setBox(input, value) {
  input.value = value;
  filling = true;
  try {
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  } finally {
    filling = false;
  }
}

// Fill what the server read; returns the names filled. Fields it could not read are left as
// the resident typed them.
export function fillForm(form, data) {
  const filled = [];
  for (const name of FIELDS) {
    const value = data[name];
    const input = form.elements.namedItem(name);
    if (!value || !input) continue;
    setBox(input, formValue(name, value));
    const confidence = (data.confidence && data.confidence[name]) || 0;
    confidenceNote(input, confidence);
    filled.push(name);
  }
  return filled;
}

function stillFromVideo(video, maxSide = MAX_SIDE) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  const crop = cropRect(vw, vh);
  const scale = sendScale(crop, maxSide);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(crop.w * scale);
  canvas.height = Math.round(crop.h * scale);
  canvas.getContext("2d").drawImage(video, crop.x, crop.y, crop.w, crop.h, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      canvas.width = 0; // drop the pixels as soon as the JPEG exists
      canvas.height = 0;
      if (blob) resolve(blob); else reject(new Error("encode"));
    }, "image/jpeg", JPEG_QUALITY);
  });
}

async function send(endpoint, csrfToken, blobs, field = "image") {
  const body = new FormData();
  for (const [i, blob] of (Array.isArray(blobs) ? blobs : [blobs]).entries()) {
    body.append(field, blob, `card-front-${i}.jpg`);
  }
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken },
      body,
      cache: "no-store",
    });
  } catch {
    return { ok: false, message: text.network };
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 413) return { ok: false, message: text.tooLarge };
  if (!response.ok || !data) return { ok: false, message: (data && data.message) || text.server };
  return data;
}

// Otsu's threshold of a grey image (every 3rd pixel is enough at probe size).
export function otsuThreshold(gray) {
  const hist = new Float64Array(256);
  let n = 0;
  for (let i = 0; i < gray.length; i += 3) { hist[gray[i]]++; n++; }
  let sum = 0;
  for (let v = 0; v < 256; v++) sum += v * hist[v];
  let below = 0;
  let sumBelow = 0;
  let best = 0;
  let threshold = 128;
  for (let v = 0; v < 256; v++) {
    below += hist[v];
    if (!below || below === n) continue;
    sumBelow += v * hist[v];
    const m0 = sumBelow / below;
    const m1 = (sum - sumBelow) / (n - below);
    const between = below * (n - below) * (m0 - m1) ** 2;
    if (between > best) { best = between; threshold = v; }
  }
  return threshold;
}

// The card on a PROBE_WIDTH-wide grey copy of the guide's crop: the box of the bright area
// (rows and columns mostly bright), kept only when card-shaped; and how much the picture
// changed since the last tick. `box` is in probe pixels, or null when no card is there.
export function probeMeasures(gray, width, height, previous) {
  let lo = 255;
  let hi = 0;
  for (let i = 0; i < gray.length; i += 7) {
    if (gray[i] < lo) lo = gray[i];
    if (gray[i] > hi) hi = gray[i];
  }
  const threshold = otsuThreshold(gray);
  const cols = new Uint32Array(width);
  const rows = new Uint32Array(height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > threshold) { cols[x]++; rows[y]++; }
    }
  }
  const extent = (profile) => {
    const peak = Math.max(...profile);
    let first = -1;
    let last = -1;
    for (let i = 0; i < profile.length; i++) {
      if (profile[i] >= peak * 0.5 && peak > 0) { if (first < 0) first = i; last = i; }
    }
    return [first, last];
  };
  const [x0, x1] = extent(cols);
  const [y0, y1] = extent(rows);
  let motion = 0;
  if (previous && previous.length === gray.length) {
    let sum = 0;
    for (let i = 0; i < gray.length; i++) sum += Math.abs(gray[i] - previous[i]);
    motion = sum / gray.length;
  }
  let box = null;
  if (x0 >= 0 && y0 >= 0 && hi - lo >= MIN_CONTRAST) {
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    let bright = 0;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) if (gray[y * width + x] > threshold) bright++;
    }
    const aspect = w / h;
    if (aspect >= CARD_ASPECT[0] && aspect <= CARD_ASPECT[1] && bright / (w * h) >= MIN_FILL
        && w >= width * 0.1) {
      box = { x: x0, y: y0, w, h };
    }
  }
  return { span: box ? box.w / width : 0, box, motion };
}

// Sharpness of a grey image: the mean squared 4-neighbour Laplacian over the squared mean grey
// level (so that a darker exposure of the same card scores alike). A smear or defocus lowers
// it; it compares frames of one card, it is not an absolute scale.
export function sharpness(gray, width, height) {
  let sum = 0;
  let level = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = 4 * gray[i] - gray[i - 1] - gray[i + 1] - gray[i - width] - gray[i + width];
      sum += lap * lap;
      level += gray[i];
      n++;
    }
  }
  const mean = n ? Math.max(level / n, 1) : 1;
  return n ? (1000 * sum) / n / (mean * mean) : 0;
}

function grayOf(ctx, width, height) {
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    gray[i] = (rgba[4 * i] * 77 + rgba[4 * i + 1] * 150 + rgba[4 * i + 2] * 29) >> 8;
  }
  return gray;
}

function probe(video, canvas) {
  const crop = cropRect(video.videoWidth, video.videoHeight);
  canvas.width = PROBE_WIDTH;
  canvas.height = Math.round(PROBE_WIDTH * crop.h / crop.w);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, crop.x, crop.y, crop.w, crop.h, 0, 0, canvas.width, canvas.height);
  return { gray: grayOf(ctx, canvas.width, canvas.height), width: canvas.width,
    height: canvas.height, scale: crop.w / PROBE_WIDTH, crop };
}

// The card's box (probe pixels) at camera resolution, at most SHARP_WIDTH wide, inset by a
// tenth so that the card's edge against the table does not count as detail.
function cardSharpness(video, canvas, crop, box, scale) {
  const sx = crop.x + (box.x + box.w * 0.1) * scale;
  const sy = crop.y + (box.y + box.h * 0.1) * scale;
  const sw = box.w * 0.8 * scale;
  const sh = box.h * 0.8 * scale;
  const k = Math.min(1, SHARP_WIDTH / sw);
  canvas.width = Math.max(8, Math.round(sw * k));
  canvas.height = Math.max(8, Math.round(sh * k));
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
  return sharpness(grayOf(ctx, canvas.width, canvas.height), canvas.width, canvas.height);
}

function guideOverlay() {
  const overlay = el("div", { class: "cardface-guide", "aria-hidden": "true" });
  overlay.style.cssText = "position:absolute;border:4px solid #000;border-radius:4%/6%;"
    + "box-shadow:0 0 0 9999px rgba(0,0,0,.35);pointer-events:none;box-sizing:border-box;";
  return overlay;
}

function placeGuide(overlay, video) {
  const g = guideRect(video.videoWidth, video.videoHeight);
  overlay.style.left = `${(g.x / video.videoWidth) * 100}%`;
  overlay.style.top = `${(g.y / video.videoHeight) * 100}%`;
  overlay.style.width = `${(g.w / video.videoWidth) * 100}%`;
  overlay.style.height = `${(g.h / video.videoHeight) * 100}%`;
}

export async function start({ form, container, endpoint, burstEndpoint = "", csrfToken = "", onFilled = () => {}, strings = {} }) {
  if (!form || !container || !endpoint) throw new Error("cardface: form, container and endpoint are required");
  text = localised(strings);
  container.replaceChildren();
  const box = el("div", { class: "cardface", role: "group", "aria-label": text.group });
  const intro = el("p", {}, text.intro);
  const privacy = el("p", { class: "note" }, text.privacy);
  const stage = el("div", { class: "cardface-stage" });
  stage.style.cssText = "position:relative;display:inline-block;max-width:100%;overflow:hidden;";
  // An inline `display` beats the `hidden` attribute, so both are set together.
  const showStage = (on) => { stage.hidden = !on; stage.style.display = on ? "inline-block" : "none"; };
  const video = el("video", { playsinline: "", muted: "", autoplay: "" });
  video.muted = true;
  video.style.cssText = "display:block;max-width:100%;height:auto;";
  const overlay = guideOverlay();
  stage.append(video, overlay);
  const status = el("p", { class: "status-line", role: "status", "aria-live": "polite" }, text.starting);
  const error = el("p", { class: "error", role: "alert" });
  const buttons = el("div", { class: "camera-row" });
  const capture = el("button", { type: "button", class: "button primary" }, text.capture);
  const retake = el("button", { type: "button", class: "button secondary", hidden: "" }, text.retake);
  const close = el("button", { type: "button", class: "button secondary" }, text.close);
  buttons.append(capture, retake, close);
  box.append(intro, privacy, stage, status, error, buttons);
  container.append(box);

  const weak = el("p", { class: "note cardface-weak", hidden: "" }, text.weakCamera);
  stage.insertAdjacentElement("afterend", weak);
  let stream = null;
  let timer = null;
  let kept = []; // { blob, sharp } while the card is steady
  let bestSharp = 0;
  let previous = null;
  let steadyTicks = 0;
  let sending = false;
  // The values this reading filled (name -> the server's value) and its bursts so far: a later
  // burst only adds what is still missing, and one that reads a filled value otherwise empties
  // that field, since two readings that disagree are not guessed between (issue 15).
  let held = {};
  let bursts = 0;
  const more = el("p", { class: "note cardface-more", "aria-live": "polite", hidden: "" });
  // Whether the panel is still on screen: closed (閉じる empties it) or the step left (the
  // wizard hides it), the camera must not come back or stay on.
  const onScreen = () => box.isConnected && box.offsetParent !== null;
  status.insertAdjacentElement("afterend", more);
  const probeCanvas = document.createElement("canvas");
  const sharpCanvas = document.createElement("canvas");
  const setGreen = (on) => { overlay.style.borderColor = on ? "#1a7f37" : "#000"; overlay.classList.toggle("steady", on); };
  const unsteady = (message) => {
    steadyTicks = 0; kept = []; bestSharp = 0; setGreen(false);
    status.textContent = message;
  };
  const stopLive = () => {
    if (timer) clearInterval(timer);
    timer = null;
    previous = null;
    unsteady(status.textContent);
  };
  const stop = () => {
    stopLive();
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
  };
  window.addEventListener("pagehide", () => { held = {}; stop(); }, { once: true });

  const fail = (message) => {
    stop();
    showStage(false);
    more.hidden = true;
    capture.hidden = true;
    status.textContent = "";
    // Every message fail() shows already points to the manual form below.
    error.textContent = message;
  };

  // A new reading (the first, or 「もう一度撮影する」) starts afresh; `keep` goes on with the
  // values the live reading has read so far.
  const open = async ({ keep = false } = {}) => {
    if (!keep) {
      held = {};
      bursts = 0;
      more.hidden = true;
    }
    error.textContent = "";
    status.textContent = text.starting;
    showStage(true);
    retake.hidden = true;
    capture.hidden = false;
    capture.disabled = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail(text.insecure);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
      });
    } catch (exc) {
      fail(cameraError(exc));
      retake.hidden = false;
      return;
    }
    if (!onScreen()) { // closed, or the step left, while the camera was starting
      stop();
      return;
    }
    video.srcObject = stream;
    await new Promise((resolve) => {
      if (video.readyState >= 1 && video.videoWidth) resolve();
      else video.addEventListener("loadedmetadata", resolve, { once: true });
    });
    try { await video.play(); } catch { /* autoplay is allowed for a muted stream */ }
    placeGuide(overlay, video);
    status.textContent = burstEndpoint ? text.live : text.ready;
    weak.hidden = video.videoWidth >= WEAK_CAMERA_WIDTH;
    capture.disabled = false;
    if (!keep) capture.focus(); // going on by itself: the resident may be typing in a box
    if (burstEndpoint) timer = setInterval(tick, TICK_MS);
  };

  const listOf = (names) => names.map((n) => text[`field.${n}`]).join(text.listSeparator);

  // The server's answer laid over what this reading already filled. A value read before and now
  // read otherwise empties its box (unless the resident has typed over it); when the reading
  // goes on by itself, a box the resident has typed in meanwhile is left as typed. Returns the
  // names read otherwise, and those of them emptied.
  const merge = (data) => {
    const fresh = { confidence: data.confidence };
    const conflicts = [];
    const emptied = [];
    for (const name of FIELDS) {
      const value = data[name];
      const input = form.elements.namedItem(name);
      if (!value || !input) continue;
      if (name in held) {
        if (held[name] !== value) conflicts.push(name);
      } else if (bursts === 1 || !input.value) {
        fresh[name] = value;
      }
    }
    for (const name of conflicts) {
      const input = form.elements.namedItem(name);
      if (input.value === formValue(name, held[name])) {
        setBox(input, "");
        const note = document.getElementById(`${name}-cardface`);
        if (note) note.textContent = "";
        emptied.push(name);
      }
      delete held[name];
    }
    const filled = fillForm(form, fresh);
    for (const name of filled) held[name] = data[name];
    if (filled.length) onFilled(filled);
    return { conflicts, emptied };
  };

  const show = (data, { live = false } = {}) => {
    if (!bursts) clearNotes();
    bursts += 1;
    const { conflicts, emptied } = merge(data);
    const got = FIELDS.filter((n) => n in held);
    retake.hidden = false;
    more.hidden = true;
    if (got.length === FIELDS.length) {
      held = {}; // the reading is over: nothing is kept beyond the boxes themselves
      error.textContent = "";
      status.textContent = text.done;
      const first = form.elements.namedItem(FIELDS[0]);
      if (first) first.focus();
    } else if (live && "confidence" in data && got.length && !conflicts.length
               && bursts < LIVE_BURSTS && onScreen()) {
      // The server read some values and contradicted none: the camera comes back for the rest
      // (not after a failed upload, whose message must stay, nor once the panel is gone).
      error.textContent = "";
      more.textContent = text.more.replace("%L", listOf(got));
      more.hidden = false;
      open({ keep: true });
    } else {
      held = {};
      status.textContent = got.length
        ? text.partial + text.filledList.replace("%L", listOf(got))
        : text.manual; // the form below stays usable whatever went wrong
      // A disputed box the resident had typed over stays theirs, and needs no message.
      error.textContent = emptied.length
        ? text.conflict.replace("%L", listOf(emptied))
        : conflicts.length ? "" : data.message || text[`reason.${data.reason}`] || text.server;
    }
  };

  const sendBurst = async ({ live = true } = {}) => {
    sending = true;
    const blobs = kept.sort((a, b) => b.sharp - a.sharp).map((k) => k.blob); // sharpest first
    kept = [];
    stop(); // the frames are taken: the camera goes off before the upload
    showStage(false);
    capture.hidden = true;
    status.textContent = text.reading;
    let data = await send(burstEndpoint, csrfToken, blobs, "frame");
    blobs.length = 0;
    sending = false;
    show(data, { live });
    data = null;
  };

  let ticking = false;
  const tick = async () => {
    if (stream && !onScreen()) { // the step was left with the camera on
      stop();
      return;
    }
    if (!stream || !video.videoWidth || sending || ticking) return;
    ticking = true;
    try { await analyse(); } finally { ticking = false; }
  };
  const analyse = async () => {
    const { gray, width, height, scale, crop } = probe(video, probeCanvas);
    const { box, motion } = probeMeasures(gray, width, height, previous);
    previous = gray;
    const cardPx = box ? sentWidth(box.w * scale, crop, BURST_MAX_WIDTH) : 0;
    if (!box) unsteady(text.live);
    else if (cardPx < MIN_CARD_PX) unsteady(text.closer);
    else if (motion > MAX_MOTION) unsteady(text.still);
    else {
      steadyTicks++;
      setGreen(true);
      status.textContent = text.steady;
      if (steadyTicks <= STEADY_TICKS) return;
      // Only frames nearly as sharp as the sharpest seen while steady are kept: a hand that
      // trembles smears some frames, and the server does better with fewer, sharper ones.
      const sharp = cardSharpness(video, sharpCanvas, crop, box, scale);
      if (sharp < bestSharp * SHARP_SHARE) return;
      bestSharp = Math.max(bestSharp, sharp);
      kept = kept.filter((k) => k.sharp >= bestSharp * SHARP_SHARE);
      try {
        kept.push({ blob: await stillFromVideo(video, BURST_MAX_WIDTH), sharp });
      } catch { /* a frame that could not be encoded is skipped */ }
      const wanted = cardPx < SMALL_CARD_PX ? SMALL_BURST_FRAMES : BURST_FRAMES;
      if (kept.length >= wanted && !sending) await sendBurst();
    }
  };

  // The card's width now in a still as 撮影する sends it (0 when the probe finds none).
  const stillCardWidthNow = () => {
    const { gray, width, height, scale, crop } = probe(video, probeCanvas);
    const { box } = probeMeasures(gray, width, height, null);
    return box ? sentWidth(box.w * scale, crop, MAX_SIDE) : 0;
  };

  // 撮影する on a small card (a weak camera at arm's length): one still cannot carry the
  // security code (cardface/reader.py CODE_MIN_CARD_WIDTH_PX), so two seconds of frames are
  // taken and the sharpest sent like the live reading's burst, for the server to average. Only
  // the SMALL_BURST_FRAMES sharpest so far are held: the others are let go as they fall behind.
  const captureSmall = async () => {
    status.textContent = text.steady;
    const takes = [];
    for (let i = 0; i < MANUAL_BURST_TAKES && stream; i++) {
      if (i) await new Promise((resolve) => { setTimeout(resolve, MANUAL_BURST_GAP_MS); });
      const { gray, width, height, scale, crop } = probe(video, probeCanvas);
      const { box } = probeMeasures(gray, width, height, null);
      const sharp = box ? cardSharpness(video, sharpCanvas, crop, box, scale) : 0;
      try {
        takes.push({ blob: await stillFromVideo(video, BURST_MAX_WIDTH), sharp });
      } catch { /* a frame that could not be encoded is skipped */ }
      takes.sort((a, b) => b.sharp - a.sharp);
      takes.length = Math.min(takes.length, SMALL_BURST_FRAMES);
    }
    if (!takes.length) {
      fail(text.server);
      retake.hidden = false;
      return;
    }
    kept = takes;
    await sendBurst({ live: false });
  };

  capture.addEventListener("click", async () => {
    if (!stream || !video.videoWidth) return;
    capture.disabled = true;
    error.textContent = "";
    stopLive();
    const cardPx = burstEndpoint ? stillCardWidthNow() : 0;
    if (cardPx && cardPx < SMALL_CARD_PX) {
      await captureSmall();
      return;
    }
    let blob;
    try {
      blob = await stillFromVideo(video);
    } catch {
      fail(text.server);
      retake.hidden = false;
      return;
    }
    stop(); // one still is all that is needed: the camera goes off before the upload
    showStage(false);
    capture.hidden = true;
    status.textContent = text.reading;
    const data = await send(endpoint, csrfToken, blob);
    blob = null;
    show(data);
  });
  retake.addEventListener("click", () => { open(); });
  close.addEventListener("click", () => {
    held = {};
    stop();
    container.replaceChildren();
  });

  await open();
}

export default start;
