// A thread's messages: each stored message shown once (by id) in (created_at, id) order, older
// pages put above, and mine delivered optimistically: shown at once as "Sending…", then "Sent",
// or "Not sent" with Retry, which resends with the same client_id so the server stores it once.

import { post } from "./api.js";
import { appendKeepingBottom, setDelivery } from "./message-list.js";

export class ThreadLog {
  // list: the <ol>; threadId; userId() -> my id (null until known); partnerName() -> their name;
  // onFailed(error) when a send is refused (e.g. the thread ended).
  constructor(list, { threadId, userId, partnerName, onFailed = () => {} }) {
    Object.assign(this, { list, threadId, userId, partnerName, onFailed });
    this.pending = new Map(); // client_id -> {body, item}
    this.shownIds = new Set();
    this.newestId = null;
  }

  get oldestId() {
    const first = this.list.querySelector("li[data-id]");
    return first ? first.dataset.id : null;
  }

  // Stored messages, oldest first: a page older than everything shown goes on top.
  showOlder(messages) {
    const anchor = this.list.firstElementChild;
    const before = this.list.scrollHeight;
    for (const message of messages) {
      if (this.shownIds.has(message.id)) continue;
      this.shownIds.add(message.id);
      this.list.insertBefore(this.item(message), anchor);
    }
    this.list.scrollTop += this.list.scrollHeight - before; // keep what the reader was looking at
  }

  // A stored message from the socket or the newest page: shown once, mine matched to its pending line.
  show(message) {
    if (!message || this.shownIds.has(message.id)) return false;
    if (message.sender_id === this.userId() && this.pending.has(message.client_id)) {
      this.markSent(message.client_id, message);
      return false;
    }
    this.shownIds.add(message.id);
    this.newestId = message.id;
    this.append(this.item(message), message.sender_id === this.userId());
    return message.sender_id !== this.userId();
  }

  send(body) {
    const clientId = crypto.randomUUID(); // pages are served over HTTPS or from localhost: a secure context
    const item = messageItem({ mine: true, name: "You", body, createdAt: new Date() });
    item.dataset.clientId = clientId;
    this.pending.set(clientId, { body, item });
    this.append(item, true);
    this.deliver(clientId);
  }

  // Retry sends the same client_id: a message the server did store is answered 200, not stored twice.
  deliver(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    this.setDelivery(pending.item, "sending");
    post(`/api/threads/${this.threadId}/messages`, { body: pending.body, client_id: clientId })
      .then((message) => this.markSent(clientId, message))
      .catch((error) => {
        this.setDelivery(pending.item, "failed", error.detail);
        this.onFailed(error);
      });
  }

  markSent(clientId, message) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    this.pending.delete(clientId);
    pending.item.dataset.id = message.id;
    if (!this.shownIds.has(message.id)) {
      this.shownIds.add(message.id);
      this.newestId = message.id;
    }
    this.setDelivery(pending.item, "sent");
  }

  append(item, forceScroll) {
    appendKeepingBottom(this.list, item, forceScroll);
  }

  systemLine(text) {
    const item = document.createElement("li");
    item.className = "msg system";
    item.textContent = text;
    this.append(item, true);
  }

  item(message) {
    const mine = message.sender_id === this.userId();
    const item = messageItem({
      mine,
      name: mine ? "You" : this.partnerName(),
      body: message.body,
      createdAt: new Date(message.created_at),
    });
    item.dataset.id = message.id;
    return item;
  }

  setDelivery(item, status, reason = "") {
    setDelivery(item, status, reason, (clientId) => this.deliver(clientId));
  }
}

function messageItem({ mine, name, body, createdAt }) {
  const item = document.createElement("li");
  item.className = `msg ${mine ? "me" : "stranger"}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = name;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = body;
  const time = document.createElement("time");
  time.dateTime = createdAt.toISOString();
  time.textContent = createdAt.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  item.append(who, text, time);
  return item;
}

