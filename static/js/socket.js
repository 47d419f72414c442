// A WebSocket client for any of our sockets (room, mood room, thread, presence): JSON frames
// dispatched to a handler per frame type, reconnects with exponential backoff and jitter after
// a network blip, at once (jittered) after a server restart, and never after a final close.

import { Close, FINAL_CLOSE_CODES, Frame } from "./protocol.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
// A deploy closes every socket of a process at the same moment: spread their return.
const RESTART_SPREAD_MS = 1000;

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class ReconnectingSocket {
  // path: "/ws/…/"; handlers: {frame type: (frame) => …}, frames of other types are ignored;
  // onStatus("connecting" | "open" | "reconnecting"); onEnd(closeCode, lastError) once closed
  // for good by the server (lastError: the error frame sent just before the close, or null).
  constructor(path, { handlers, onStatus = () => {}, onEnd = () => {} }) {
    this.url = socketUrl(path);
    this.handlers = handlers;
    this.onStatus = onStatus;
    this.onEnd = onEnd;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.ws = null;
    this.lastError = null;
    this.retryNow = () => {
      if (this.timer) this.reconnect(0);
    };
    // The network went away: a socket may linger half-open for minutes and swallow what is
    // sent meanwhile, so let it go and come back (at once when the network does).
    this.dropNow = () => {
      if (this.ws === null || this.stopped) return;
      const ws = this.ws;
      this.ws = null;
      ws.close();
      this.attempt = Math.max(this.attempt, 1);
      this.onStatus("reconnecting");
      this.reconnect(FIRST_DELAY_MS);
    };
    window.addEventListener("online", this.retryNow);
    window.addEventListener("offline", this.dropNow);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // Callbacks may run from here on, so call it once the socket is stored where they look.
  open() {
    this.timer = null;
    this.lastError = null;
    this.onStatus(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws || this.stopped) return;
      this.attempt = 0;
      this.onStatus("open");
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws || this.stopped) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to interpret
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === Frame.ERROR) this.lastError = frame;
      const handler = Object.hasOwn(this.handlers, frame.type) ? this.handlers[frame.type] : null;
      if (handler) handler(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws || this.stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.stop();
        this.onEnd(event.code, this.lastError);
        return;
      }
      this.onStatus("reconnecting");
      if (event.code === Close.SERVER_RESTARTING) {
        this.reconnect(Math.random() * RESTART_SPREAD_MS);
        return;
      }
      const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      this.reconnect(base * (0.5 + Math.random()));
    };
  }

  reconnect(delayMs) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delayMs);
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.retryNow);
    window.removeEventListener("offline", this.dropNow);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(Close.NORMAL);
  }
}
