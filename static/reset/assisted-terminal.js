// The resident's face page in an assisted booking (templates/reset/_assisted_terminal.html;
// the socket is reset/assisted_consumer.py). Sends the chip photo this page
// already holds for the face check — only when the clerk's console asks for it after a failed
// check — and finishes the face step once the clerk has recorded the in-person check. The photo
// is kept in this module's memory for the life of the page (face.js removes it from storage after
// the last try), never in storage of its own.
const root = document.getElementById("assisted-terminal");
const $ = (id) => document.getElementById(id);
const S = Object.fromEntries(
  [...document.querySelectorAll("#assisted-strings [data-key]")].map((el) => [el.dataset.key, el.textContent.trim()]),
);

let photo = null;
try { photo = sessionStorage.getItem("myna.chipPhoto"); } catch { photo = null; }

function status(text) { $("assisted-terminal-status").textContent = text || ""; }

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.wsPath}`);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "photo_request") {
      if (!photo) { status(S.no_photo); return; }
      socket.send(JSON.stringify({ type: "photo", photo }));
      status(S.photo_request);
    } else if (message.type === "in_person_done") {
      status(S.in_person_done);
      photo = null;
      $("assisted-complete").submit();
    } else if (message.type === "ended") {
      status(S.ended);
    }
  });
}

window.addEventListener("pagehide", () => { photo = null; });
connect();
