// The conversation: system lines, each stored message shown once (by id), and delivery of
// mine: shown at once, sent over the socket (or HTTP when it is down), retried with the same
// client_id so the server stores it once however often it is resent.

import { post } from "./api.js";
import { appendKeepingBottom, setDelivery } from "./message-list.js";
import { Frame } from "./protocol.js";

const ACK_TIMEOUT_MS = 10000;

export class MessageLog {
  // list: the <ol>; sendFrame(frame) -> bool; liveRoomId() -> the room messages may go to
  // (null once the chat is over); userId() -> my id; onStrangerMessage() when one is shown.
  constructor(list, { sendFrame, liveRoomId, userId, onStrangerMessage }) {
    Object.assign(this, { list, sendFrame, liveRoomId, userId, onStrangerMessage });
    this.pending = new Map(); // client_id -> {text, item, timer, viaSocket, roomId}
    this.shownIds = new Set();
    this.lastId = null; // the newest stored message shown: where a resumed page catches up from
  }

  clear() {
    this.list.replaceChildren();
    this.shownIds.clear();
    this.lastId = null;
  }

  systemLine(text, { spinner = false, ended = false } = {}) {
    const item = document.createElement("li");
    item.className = `msg system${spinner ? " searching" : ""}${ended ? " ended" : ""}`;
    if (spinner) {
      const wheel = document.createElement("span");
      wheel.className = "spinner";
      wheel.setAttribute("aria-hidden", "true");
      item.append(wheel);
    }
    item.append(text);
    this.append(item, true);
    return item;
  }

  append(item, forceScroll) {
    appendKeepingBottom(this.list, item, forceScroll);
  }

  // A stored message, from the socket or the history: shown once, mine matched to its pending line.
  show(message) {
    if (!message || this.shownIds.has(message.id)) return;
    const mine = !message.is_system && message.sender_id === this.userId();
    if (mine && this.pending.has(message.client_id)) {
      this.markSent(message.client_id, message.id);
      return;
    }
    this.shownIds.add(message.id);
    this.lastId = message.id;
    const who = message.is_system ? "system" : mine ? "me" : "stranger";
    const item = messageItem({ who, text: message.message, timestamp: message.timestamp });
    item.dataset.id = message.id;
    this.append(item, mine);
    if (who === "stranger") this.onStrangerMessage();
  }

  send(text) {
    const clientId = newClientId();
    const item = messageItem({ who: "me", text, timestamp: Date.now() });
    item.dataset.clientId = clientId;
    this.pending.set(clientId, { text, item, timer: null, viaSocket: false, roomId: this.liveRoomId() });
    this.append(item, true);
    this.deliver(clientId);
  }

  // Over the socket when it is up, else over HTTP.
  deliver(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    if (pending.roomId !== this.liveRoomId()) {
      this.markFailed(clientId, "the chat has ended");
      return;
    }
    this.setDelivery(pending.item, "sending");
    clearTimeout(pending.timer);
    pending.viaSocket = this.sendFrame({ type: Frame.MESSAGE, text: pending.text, client_id: clientId });
    if (pending.viaSocket) {
      pending.timer = setTimeout(() => this.markFailed(clientId, "no answer from the server"), ACK_TIMEOUT_MS);
      return;
    }
    post("/api/chat/message", { room_id: pending.roomId, text: pending.text, client_id: clientId })
      .then((message) => this.markSent(clientId, message.id))
      .catch((error) => this.markFailed(clientId, error.detail));
  }

  // What we sent over a socket that dropped before its ack came: send it again.
  resendUnacked() {
    for (const [clientId, pending] of this.pending) {
      if (pending.viaSocket && pending.item.dataset.status === "sending") this.deliver(clientId);
    }
  }

  isPending(clientId) {
    return this.pending.has(clientId);
  }

  markSent(clientId, id) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(clientId);
    pending.item.dataset.id = id;
    this.shownIds.add(id);
    this.lastId = id;
    this.setDelivery(pending.item, "sent");
  }

  markFailed(clientId, reason) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.setDelivery(pending.item, "failed", reason);
  }

  failPending(reason) {
    for (const clientId of this.pending.keys()) this.markFailed(clientId, reason);
    this.pending.clear();
  }

  setDelivery(item, status, reason = "") {
    setDelivery(item, status, reason, (clientId) => this.deliver(clientId));
  }
}

function messageItem({ who, text, timestamp }) {
  const item = document.createElement("li");
  item.className = `msg ${who}`;
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = who === "me" ? "You" : "Stranger";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  const time = document.createElement("time");
  const at = new Date(timestamp);
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  item.title = at.toLocaleString();
  item.append(name, body, time);
  return item;
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
