// The reader step's side of the card helper (issue 17; templates/reset/_helper_setup.html):
// Chrome's Local Network Access prompt explained before it appears, a "Block" detected as far as
// a page can (the permission state; a failed connection while it is denied), install guidance
// when no helper answers, and an update message when the helper is older than this page needs.
// docs/bridge-deployment.md has the browser facts.
import { BridgeClient } from "./bridge-client.js";

const root = document.getElementById("helper-setup");
const T = JSON.parse(document.getElementById("helper-strings").textContent);
const REQUIRED_API = Number(root.dataset.requiredApi);
const MIN_VERSION = root.dataset.minVersion;
const PANELS = ["lna-explain", "lna-blocked", "helper-missing", "helper-outdated", "helper-downloads-box", "helper-retry-row"];
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const fill = (text, values) => Object.entries(values).reduce((out, [k, v]) => out.split(`%${k}`).join(String(v)), text);

let lnaExplained = false;
let retry = () => {};

function show(...names) {
  for (const id of PANELS) document.getElementById(id).hidden = !names.includes(id);
}

export function versionOlder(version, minimum) {
  const parts = (text) => String(text || "0").split(".").map((n) => Number.parseInt(n, 10) || 0);
  const [a, b] = [parts(version), parts(minimum)];
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
  }
  return false;
}

// The permission's state where the browser has it: "granted", "prompt", "denied", or
// "unsupported". Chrome names it loopback-network (local-network-access before the split).
export async function lnaState() {
  if (!navigator.permissions || !navigator.permissions.query) return "unsupported";
  for (const name of ["loopback-network", "local-network-access"]) {
    try {
      return (await navigator.permissions.query({ name })).state;
    } catch {
      // not a permission this browser knows; try the older name
    }
  }
  return "unsupported";
}

// The socket's failure can reach the page before the browser has stored the resident's answer to
// its prompt: a state still "prompt" is asked again for up to a second before it is believed.
async function settledLnaState() {
  for (let i = 0; i < 10; i += 1) {
    const state = await lnaState();
    if (state !== "prompt") return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return lnaState();
}

// A page served from loopback itself (development) is never asked: Chrome reports "prompt"
// there all the same, so the state is consulted only for a secure page on a real host.
function permissionApplies() {
  return window.isSecureContext && !LOOPBACK_HOSTS.has(window.location.hostname);
}

function outdated(why, status) {
  status(T.outdated, "bad");
  document.getElementById("helper-outdated-why").textContent = why;
  show("helper-outdated", "helper-downloads-box", "helper-retry-row");
}

function missing(status, text = T.missing) {
  status(text, "bad");
  show("helper-missing", "helper-downloads-box", "helper-retry-row");
}

function blocked(status) {
  status(T.blocked, "bad");
  show("lna-blocked", "helper-retry-row");
}

// Connects and says hello; returns the client, or null after showing what the resident can do.
export async function connectHelper(url, onEvent, status) {
  show();
  const gated = permissionApplies();
  if (gated) {
    const state = await lnaState();
    if (state === "denied") { blocked(status); return null; }
    if (state === "prompt" && !lnaExplained) {
      status(T.lna);
      show("lna-explain");
      document.getElementById("lna-continue").focus();
      return null;
    }
  }
  status(T.connecting);
  const client = new BridgeClient(url, { api: REQUIRED_API });
  client.onEvent(onEvent);
  let hello;
  try {
    hello = await client.connect();
  } catch (failure) {
    client.close();
    const reply = failure.kind === "version" && failure.detail && failure.detail.reply;
    if (reply) {
      const supported = Array.isArray(reply.supported) ? reply.supported : [];
      const highest = supported.length ? Math.max(...supported) : 0;
      outdated(highest > REQUIRED_API ? T["why.page_older"] : fill(T["why.api"], { R: REQUIRED_API, H: highest }), status);
    } else if (gated && (await settledLnaState()) === "denied") {
      blocked(status); // the resident just answered the prompt with "Block"
    } else {
      missing(status);
    }
    document.getElementById("bridge-retry").focus();
    return null;
  }
  if (versionOlder(hello.version, MIN_VERSION)) {
    client.close();
    outdated(fill(T["why.version"], { V: hello.version, M: MIN_VERSION }), status);
    document.getElementById("bridge-retry").focus();
    return null;
  }
  status(T.connected, "good");
  return client;
}

// The helper went away mid-step (closed, updated, logged out).
export function helperLost(status) {
  missing(status, T.lost);
}

export function onRetry(callback) { retry = callback; }

document.getElementById("bridge-retry").addEventListener("click", () => retry());
document.getElementById("lna-continue").addEventListener("click", () => {
  lnaExplained = true; // the click is the user gesture the prompt then follows
  retry();
});
