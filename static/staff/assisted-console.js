// The clerk's view of an assisted booking (templates/staff/assisted_console.html; the socket is
// staff/assisted_consumer.py ConsoleConsumer). The socket carries codes only — step, reader
// state, face tries left, face result — and, after a failed face check and on the clerk's
// request, the chip photo as one binary message, shown from a blob: URL and dropped with the page.
const root = document.getElementById("assisted-console");
const $ = (id) => document.getElementById(id);
const L = JSON.parse($("assisted-labels").textContent);
const script = document.querySelector("script[data-booked-url]");
const fmt = (text, value) => text.split("%s").join(String(value));

let socket = null;
let photoUrl = "";

function render(s) {
  $("assisted-terminal").textContent = s.ended ? L.misc.ended : s.joined ? L.misc.joined : L.misc.waiting;
  $("assisted-step").textContent = L.step[s.step] ?? s.step;
  $("assisted-reader").textContent = L.reader[s.reader] ?? s.reader;
  $("assisted-pin-tries").textContent = typeof s.pin_tries_left === "number" ? String(s.pin_tries_left) : L.misc.unknown_tries;
  $("assisted-tries").textContent = typeof s.face_attempts_left === "number" ? String(s.face_attempts_left) : L.misc.unknown_tries;
  $("assisted-face").textContent = L.face[s.face_result] ?? fmt(L.misc.failed_other, s.face_result);
  $("assisted-note").textContent = s.refusal ? fmt(L.misc.refusal, s.refusal) : "";
  if (s.joined && $("join-panel")) $("join-panel").hidden = true;
  // The in-person check: only after the automated check failed, before it was recorded.
  $("in-person").hidden = !(s.live && s.step === "face" && s.face_failed && !s.in_person);
  if (s.reservation) {
    $("assisted-booked").hidden = false;
    $("assisted-booked-link").href = `${script.dataset.bookedUrl}${s.reservation}/`;
    dropPhoto();
  }
}

function showPhoto(data) {
  dropPhoto();
  photoUrl = URL.createObjectURL(new Blob([data], { type: "image/jpeg" }));
  $("chip-photo").src = photoUrl;
  $("photo-figure").hidden = false;
  $("in-person-form").hidden = false;
  $("assisted-error").textContent = "";
  $("id_document_type").focus();
}

function dropPhoto() {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = "";
  $("chip-photo").removeAttribute("src");
  $("photo-figure").hidden = true;
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.wsPath}`);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("message", (event) => {
    if (event.data instanceof ArrayBuffer) { showPhoto(event.data); return; }
    const message = JSON.parse(event.data);
    if (message.type === "progress") render(message.snapshot);
    else if (message.type === "photo_requested") $("assisted-error").textContent = L.misc.photo_requested;
    else if (message.type === "error") $("assisted-error").textContent = fmt(L.misc.photo_error, message.reason);
  });
  socket.addEventListener("close", (event) => {
    if (event.code !== 1000) $("assisted-error").textContent = L.misc.socket_lost;
  });
}

$("show-photo").addEventListener("click", () => {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "request_photo" }));
});
window.addEventListener("pagehide", dropPhoto);
// A clerk who works on this page is active (staff/idle.py); at most one note a minute.
let lastActive = 0;
for (const kind of ["keydown", "pointerdown"]) {
  document.addEventListener(kind, () => {
    const now = Date.now();
    if (now - lastActive < 60000 || !socket || socket.readyState !== WebSocket.OPEN) return;
    lastActive = now;
    socket.send(JSON.stringify({ type: "active" }));
  });
}

render(JSON.parse($("assisted-snapshot").textContent));
connect();
