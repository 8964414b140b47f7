// A small client for the local helper (myna-bridge): one WebSocket, JSON {cmd} → {msg}.
// docs/bridge-protocol.md is the reference. Replies are matched to requests by "id"; anything
// else (READER, SERVICE, STATUS events) goes to the event listeners.

export const API_LEVEL = 1;

export class BridgeError extends Error {
  constructor(reply) {
    super(reply.error || reply.reason || "bridge error");
    this.reply = reply;
    this.reason = reply.reason || "";
    this.fix = reply.fix || "";
  }
}

export class BridgeClient {
  // api: the API level the page speaks in HELLO (the server's MYNA_BRIDGE_API_LEVEL).
  constructor(url, { api = API_LEVEL } = {}) {
    this.url = url;
    this.api = api;
    this.socket = null;
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = new Set();
  }

  onEvent(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }

  // Opens the socket and performs the HELLO handshake; rejects with {kind: "unreachable"|"version"}.
  connect(timeoutMs = 4000) {
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch (exc) {
        reject({ kind: "unreachable", detail: String(exc) });
        return;
      }
      const timer = setTimeout(() => { socket.close(); reject({ kind: "unreachable", detail: "timeout" }); }, timeoutMs);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        this.socket = socket;
        this.request("HELLO", { api: this.api }).then(resolve, (error) => reject({ kind: "version", detail: error }));
      });
      socket.addEventListener("error", () => { clearTimeout(timer); reject({ kind: "unreachable", detail: "error" }); });
      socket.addEventListener("message", (event) => this._onMessage(event));
      socket.addEventListener("close", () => {
        for (const { reject: fail } of this.pending.values()) fail(new BridgeError({ reason: "BRIDGE_CLOSED" }));
        this.pending.clear();
        if (this.socket === socket) {
          this.socket = null;
          this._emit({ msg: "CLOSED" });
        }
      });
    });
  }

  request(cmd, body = {}) {
    if (!this.socket) return Promise.reject(new BridgeError({ reason: "BRIDGE_CLOSED" }));
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ cmd, id, ...body }));
    });
  }

  cancel() {
    if (this.socket) this.socket.send(JSON.stringify({ cmd: "CANCEL" }));
  }

  close() {
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  _emit(message) {
    for (const listener of this.listeners) {
      try { listener(message); } catch (exc) { console.error(exc); }
    }
  }

  _onMessage(event) {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    const waiter = message.id !== undefined ? this.pending.get(message.id) : undefined;
    if (!waiter) { this._emit(message); return; }
    this.pending.delete(message.id);
    if (message.ok === false || ["INVALID", "UNKNOWN_COMMAND", "BAD_STATE"].includes(message.msg)) {
      waiter.reject(new BridgeError(message));
    } else {
      waiter.resolve(message);
    }
  }
}
