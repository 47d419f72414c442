// A WebSocket that reconnects with jittered exponential backoff after a network blip.
// Close codes the server uses to say "do not come back" end it for good.

const FINAL_CODES = new Set([1000, 4003, 4004]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class ReconnectingSocket {
  // onMessage(frame), onStatus("connecting" | "open" | "reconnecting"), onEnd(closeCode)
  constructor(path, { onMessage, onStatus = () => {}, onEnd = () => {} }) {
    this.url = socketUrl(path);
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onEnd = onEnd;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.ws = null;
    this.retryNow = () => {
      if (this.timer) this.reconnect(0);
    };
    window.addEventListener("online", this.retryNow);
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // Callbacks may run from here on, so call it once the socket is stored where they look.
  open() {
    this.timer = null;
    this.onStatus(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onStatus("open");
    };
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to interpret
      }
      if (frame && typeof frame.type === "string") this.onMessage(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws || this.stopped) return;
      if (FINAL_CODES.has(event.code)) {
        this.stop();
        this.onEnd(event.code);
        return;
      }
      this.onStatus("reconnecting");
      const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      this.reconnect(base * (0.7 + Math.random() * 0.6));
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
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }
}
