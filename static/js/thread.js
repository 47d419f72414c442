// The thread page: the last 50 messages, "Load older" (keyset on the server), live messages and
// typing over the thread socket, optimistic sending, and ending or reporting the thread.

import { ApiError, get, post, request } from "./api.js";
import { ErrorCode, Frame } from "./protocol.js";
import { ReconnectingSocket } from "./socket.js";
import { ThreadLog } from "./thread-log.js";
import { toast } from "./toast.js";
import { Typing } from "./typing.js";

const PAGE = 50;
const $ = (id) => document.getElementById(id);
const view = $("thread");
const threadId = view.dataset.threadId;
const input = $("thread-input");
const form = $("thread-form");
const olderButton = $("load-older");
const statusLine = $("thread-status");

let userId = null;
let partnerName = "Stranger";
let socket = null;
let ended = false;

const log = new ThreadLog($("thread-messages"), {
  threadId,
  userId: () => userId,
  partnerName: () => partnerName,
  onFailed: (error) => {
    if (error.code === ErrorCode.THREAD_ENDED || error.code === ErrorCode.THREAD_NOT_FOUND) showEnded(error.detail);
  },
});
const typing = new Typing({
  input,
  line: $("partner-typing"),
  sendFrame: (frame) => (socket ? socket.send(frame) : false),
  canType: () => !ended,
});

function setState(state, text = "") {
  view.dataset.state = state;
  statusLine.textContent = text;
}

function showEnded(detail) {
  if (ended) return;
  ended = true;
  typing.show(false);
  setState("ended", detail || "This thread has been ended.");
  for (const control of [input, form.querySelector("button[type=submit]"), $("end-thread")]) control.disabled = true;
  if (socket) socket.stop();
}

// --- reading --------------------------------------------------------------------------

let nextBefore = null;

function showOlderButton() {
  olderButton.hidden = !nextBefore;
}

// The newest page: on the first open, and after a blip (what arrived meanwhile). Only the first
// sets where "Load older" starts; later ones just add what is new.
let firstPageShown = false;
async function loadNewest() {
  let page;
  try {
    page = await get(`/api/threads/${threadId}/messages?limit=${PAGE}`);
  } catch (error) {
    if (error.code === ErrorCode.THREAD_ENDED || error.code === ErrorCode.THREAD_NOT_FOUND) showEnded(error.detail);
    else toast(error.detail);
    return;
  }
  for (const message of page.results) log.show(message);
  if (!firstPageShown) {
    firstPageShown = true;
    nextBefore = page.next_before;
    showOlderButton();
  }
  markRead();
}

async function loadOlder() {
  if (!nextBefore) return;
  olderButton.disabled = true;
  try {
    const page = await get(`/api/threads/${threadId}/messages?limit=${PAGE}&before=${nextBefore}`);
    log.showOlder(page.results);
    nextBefore = page.next_before;
    showOlderButton();
  } catch (error) {
    toast(error.detail);
  } finally {
    olderButton.disabled = false;
  }
}

// The last-read marker behind the list's unread dot: moved when the newest message is on screen.
let lastMarked = null;
function markRead() {
  if (document.hidden || ended || !log.newestId || log.newestId === lastMarked) return;
  lastMarked = log.newestId;
  post(`/api/threads/${threadId}/read`, { message_id: lastMarked }).catch(() => {
    lastMarked = null;
  });
}
document.addEventListener("visibilitychange", markRead);

// --- live -------------------------------------------------------------------------------

function connect() {
  socket = new ReconnectingSocket(`/ws/threads/${threadId}/`, {
    handlers: {
      [Frame.THREAD_STATE]: (frame) => {
        userId = frame.user_id;
        // First open, or back after a blip: whatever arrived meanwhile is in the newest page.
        loadNewest();
      },
      [Frame.NEW_MESSAGE]: (frame) => {
        if (log.show(frame.message)) typing.show(false);
        markRead();
      },
      [Frame.TYPING]: (frame) => typing.show(frame.is_typing === true),
      [Frame.THREAD_CLOSED]: () => showEnded("This thread has been ended."),
    },
    onStatus: (status) => {
      view.dataset.socket = status;
      if (!ended) setState(status === "open" ? "live" : "connecting", status === "open" ? "" : "Connecting…");
    },
    onEnd: (code, lastError) => showEnded(lastError ? lastError.detail : "This thread is no longer available."),
  });
  socket.open();
}

// --- writing, ending, reporting ------------------------------------------------------------

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  if (!body) return;
  input.value = "";
  typing.stop();
  log.send(body);
  input.focus();
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
input.addEventListener("input", () => typing.noteInput());
olderButton.addEventListener("click", loadOlder);

$("end-thread").addEventListener("click", async () => {
  if (!window.confirm(`End this thread with ${partnerName}? It ends for both of you.`)) return;
  try {
    await request("DELETE", `/api/threads/${threadId}`);
    showEnded("You ended this thread.");
  } catch (error) {
    if (error.code === ErrorCode.THREAD_ENDED) showEnded(error.detail);
    else toast(error.detail);
  }
});

const reportDialog = $("report-dialog");
const reportForm = $("thread-report-form");
$("report-thread").addEventListener("click", () => reportDialog.showModal());
$("report-cancel").addEventListener("click", () => reportDialog.close());
reportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(reportForm);
  try {
    await post("/api/report", { thread_id: threadId, reason: data.get("reason"), details: data.get("details") || "" });
    reportDialog.close();
    toast("Thanks: the moderators will look at it.", { kind: "info" });
  } catch (error) {
    toast(error.detail);
  }
});

// --- start ------------------------------------------------------------------------------

async function start() {
  try {
    const threads = await get("/api/threads");
    const mine = threads.results.find((thread) => thread.thread_id === threadId);
    if (mine) partnerName = mine.partner_name;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  $("partner-name").textContent = partnerName;
  document.title = `${partnerName} — Whimsy`;
  connect();
}

start();
