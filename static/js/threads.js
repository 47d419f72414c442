// "Your threads": each thread with the partner's name, the last message and an unread dot.

import { get } from "./api.js";
import { toast } from "./toast.js";

const list = document.getElementById("thread-list");
const empty = document.getElementById("threads-empty");

function threadItem(thread) {
  const item = document.createElement("li");
  item.className = "thread-item";
  item.dataset.threadId = thread.thread_id;
  item.dataset.unread = String(thread.unread);
  const link = document.createElement("a");
  link.href = `/threads/${thread.thread_id}/`;
  const name = document.createElement("span");
  name.className = "thread-name";
  name.textContent = thread.partner_name;
  link.append(name);
  if (thread.unread) {
    const dot = document.createElement("span");
    dot.className = "unread-dot";
    dot.title = "New messages";
    dot.textContent = "New messages";
    link.append(dot);
  }
  const last = document.createElement("span");
  last.className = "thread-last";
  const message = thread.last_message;
  last.textContent = message ? `${message.sender_id === thread.partner_id ? "" : "You: "}${message.body}` : "No messages yet: say hello!";
  const time = document.createElement("time");
  const at = new Date(thread.last_message_at);
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  link.append(last, time);
  item.append(link);
  return item;
}

async function show() {
  try {
    const { results } = await get("/api/threads");
    list.replaceChildren(...results.map((thread) => threadItem(thread)));
    empty.hidden = results.length > 0;
  } catch (error) {
    toast(error.detail);
  }
}

show();
// Coming back to this tab, or back to this page from a thread (a page restored from the
// back/forward cache runs no script again): the dots may have changed.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) show();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) show();
});
