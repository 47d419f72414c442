// The chat view: find a stranger, talk, skip. Server frames follow the contract in DESIGN.md §10.

import { get, post } from "./api.js";
import { hasAgreedToRules, lastPairedRoom, loadPrefs, rememberPairedRoom } from "./prefs.js";
import { showPresence } from "./presence.js";
import { setUpReportForm } from "./report.js";
import { ReconnectingSocket } from "./socket.js";
import { toast } from "./toast.js";
import { VideoCall } from "./video.js";

const ACK_TIMEOUT_MS = 10000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MAX_MS = 8000;
const ESC_WINDOW_MS = 3000;
const NEAR_BOTTOM_PX = 80;

const $ = (id) => document.getElementById(id);
const view = $("chat");
const log = $("log");
const typingLine = $("typing");
const input = $("message-input");
const sendButton = $("send-button");
const endButton = $("end-button");
const nextButton = $("next-button");
const videoButton = $("video-button");
const reportButton = $("report-button");
const connectionBanner = $("connection");
const reportDialog = $("report-dialog");

// Error codes the server sends just before it closes the socket (see onEnd).
const CLOSING_ERRORS = new Set(["room_not_found", "not_participant", "already_left", "no_session"]);

// Live states: where the user talks or waits. The rest are ends of a chat.
const LIVE = new Set(["starting", "searching", "chatting"]);

const chat = {
  state: "starting",
  roomId: null,
  userId: null,
  partnerId: null,
  socket: null,
  pending: new Map(), // client_id -> {text, item, timer, viaSocket}
  shownIds: new Set(),
  busy: false, // a start, next or leave call is in flight
  leaving: false, // our own leave must not read as the stranger leaving
  announcedRoom: null, // the room whose "you're now chatting" line is shown
};

const call = new VideoCall({
  elements: {
    section: $("video"),
    local: $("local-video"),
    remote: $("remote-video"),
    status: $("video-status"),
    micButton: $("mute-mic"),
    cameraButton: $("mute-camera"),
  },
  sendSignal: (kind, payload) => sendFrame({ type: "signal", kind, payload }),
  isLowerId: () => Boolean(chat.userId && chat.partnerId) && chat.userId < chat.partnerId,
  onLocalChange(on) {
    videoButton.textContent = on ? "Stop video" : "Start video";
    videoButton.setAttribute("aria-pressed", String(on));
    view.dataset.video = on ? "on" : "off";
  },
  notify: (message, kind = "error") => toast(message, { kind }),
});

// --- state and the lines that describe it -------------------------------------------

function setState(state) {
  chat.state = state;
  view.dataset.state = state;
  const chatting = state === "chatting";
  input.disabled = !chatting;
  sendButton.disabled = !chatting;
  endButton.disabled = !LIVE.has(state) || state === "starting";
  nextButton.disabled = state === "banned" || state === "starting";
  nextButton.textContent = LIVE.has(state) ? "Next" : "New chat";
  nextButton.classList.toggle("primary", !LIVE.has(state));
  videoButton.disabled = !chatting;
  reportButton.disabled = !lastPairedRoom();
  if (!chatting) showTyping(false);
  if (chatting) input.focus();
}

function systemLine(text, { spinner = false, ended = false } = {}) {
  const item = document.createElement("li");
  item.className = `msg system${spinner ? " searching" : ""}${ended ? " ended" : ""}`;
  if (spinner) {
    const wheel = document.createElement("span");
    wheel.className = "spinner";
    wheel.setAttribute("aria-hidden", "true");
    item.append(wheel);
  }
  item.append(text);
  appendToLog(item, true);
  return item;
}

function showSearching() {
  log.replaceChildren();
  chat.shownIds.clear();
  systemLine("Looking for someone...", { spinner: true });
  setState("searching");
}

function showChatting(commonInterests) {
  if (chat.announcedRoom === chat.roomId) return;
  chat.announcedRoom = chat.roomId;
  rememberPairedRoom(chat.roomId);
  log.replaceChildren();
  chat.shownIds.clear();
  systemLine("You're now chatting with a random stranger. Say hi!");
  if (commonInterests && commonInterests.length) systemLine(`You both like ${commonInterests.join(", ")}.`);
  setState("chatting");
  if (loadPrefs().mode === "video") call.start();
}

function showEnded(state, text) {
  closeSocket();
  call.end();
  failPending("The chat ended before this was delivered.");
  setState(state);
  systemLine(text, { ended: true });
}

function showBanned(detail) {
  showEnded("banned", detail || "You are banned from Whimsy for breaking the rules.");
  toast(detail || "You are banned from Whimsy.");
}

// --- finding, skipping and ending ---------------------------------------------------

async function findStranger() {
  if (chat.busy || chat.state === "banned") return;
  chat.busy = true;
  disarmEscape();
  const inOpenRoom = chat.roomId && (chat.state === "searching" || chat.state === "chatting");
  const prefs = loadPrefs();
  const body = { mode: prefs.mode, interests: prefs.interests };
  chat.leaving = true;
  call.end();
  failPending("you moved on to a new chat");
  showSearching();
  view.dataset.room = "";
  try {
    // Next leaves the old room and finds a new one in one call; only then do we drop its
    // socket, because a socket that closes leaves its room too.
    const match = inOpenRoom
      ? await post("/api/chat/next", { ...body, room_id: chat.roomId })
      : await post("/api/chat/start", body);
    enterRoom(match);
  } catch (error) {
    if (error.code === "banned") showBanned(error.detail);
    else showEnded("stopped", `Could not start a chat: ${error.detail}`);
  } finally {
    chat.busy = false;
    chat.leaving = false;
  }
}

async function endChat() {
  disarmEscape();
  if (chat.busy || !chat.roomId || !(chat.state === "searching" || chat.state === "chatting")) return;
  chat.busy = true;
  chat.leaving = true;
  try {
    await post("/api/chat/leave", { room_id: chat.roomId });
  } catch (error) {
    // Already over on the server: the outcome the user asked for.
    if (error.code !== "already_left" && error.code !== "room_not_found") toast(error.detail);
  } finally {
    chat.busy = false;
    chat.leaving = false;
  }
  showEnded("you-left", "You have disconnected.");
}

function enterRoom(match) {
  closeSocket();
  chat.roomId = match.room_id;
  chat.partnerId = match.partner_id;
  if (match.status === "chatting") showChatting(match.common_interests);
  connect();
}

// --- the room socket ----------------------------------------------------------------

function connect() {
  let opened = false; // once open, a later open is a reconnect
  const socket = new ReconnectingSocket(`/ws/chat/${chat.roomId}/`, {
    onMessage: (frame) => socket === chat.socket && onFrame(frame),
    onStatus(status) {
      if (socket !== chat.socket) return;
      view.dataset.socket = status;
      connectionBanner.hidden = status !== "reconnecting";
      connectionBanner.textContent = status === "reconnecting" ? "Reconnecting..." : "";
      if (status !== "open") return;
      catchUp();
      opened = true;
    },
    onEnd(code) {
      if (socket !== chat.socket || !LIVE.has(chat.state) || chat.leaving) return;
      connectionBanner.hidden = true;
      if (code === 4004 && opened) showEnded("gone", "This chat is gone: it ended while you were disconnected.");
      else if (code === 4004) showEnded("gone", "This chat has already ended.");
      else if (code === 4003) showEnded("gone", "You can no longer take part in this chat.");
      else showEnded("gone", "The chat has ended.");
    },
  });
  chat.socket = socket;
  view.dataset.room = chat.roomId;
  socket.open();
}

function closeSocket() {
  if (chat.socket) chat.socket.stop();
  chat.socket = null;
  view.dataset.socket = "closed";
  connectionBanner.hidden = true;
}

function sendFrame(frame) {
  return chat.socket ? chat.socket.send(frame) : false;
}

function onFrame(frame) {
  switch (frame.type) {
    case "room_state":
      chat.userId = frame.user_id;
      chat.partnerId = frame.partner_id;
      if (frame.partner_id && chat.state === "searching") showChatting(frame.common_interests);
      break;
    case "partner_connected":
      call.partnerConnected();
      break;
    case "partner_joined":
      if (frame.room_id && frame.room_id !== chat.roomId) {
        // The settle step moved us into someone else's room: follow it.
        chat.roomId = frame.room_id;
        closeSocket();
        connect();
      }
      chat.partnerId = frame.partner_id;
      showChatting(frame.common_interests);
      break;
    case "partner_left":
      if (!chat.leaving) showEnded("partner-left", "Stranger has disconnected.");
      break;
    case "chat_ended": // our own leave, perhaps from another tab
      if (!chat.leaving) showEnded("you-left", "You have disconnected.");
      break;
    case "new_message":
      showMessage(frame.message);
      break;
    case "message_ack":
      markSent(frame.client_id, frame.id);
      break;
    case "typing":
      showTyping(frame.is_typing === true);
      break;
    case "signal":
      if (chat.state === "chatting") call.handleSignal(frame.kind, frame.payload);
      break;
    case "error":
      if (frame.code === "banned") showBanned(frame.detail);
      else if (frame.code === "partner_not_connected" && frame.kind) call.undelivered(frame.kind);
      else if (CLOSING_ERRORS.has(frame.code)) break; // the close that follows says what happened
      else if (frame.client_id && chat.pending.has(frame.client_id)) markFailed(frame.client_id, frame.detail);
      else toast(frame.detail || "Something went wrong.");
      break;
  }
}

// Once the socket listens: what was said before it did (right after a match, or during a
// network blip), and what we sent over a socket that dropped before its ack came.
async function catchUp() {
  for (const [clientId, pending] of chat.pending) {
    if (pending.viaSocket && pending.item.dataset.status === "sending") deliver(clientId);
  }
  const roomId = chat.roomId;
  try {
    const page = await get(`/api/chat/rooms/${roomId}/messages?limit=50`);
    if (roomId === chat.roomId) for (const message of page.results) showMessage(message);
  } catch (error) {
    toast(`Some messages may be missing: ${error.detail}`, { kind: "info" });
  }
}

// --- messages -----------------------------------------------------------------------

function appendToLog(item, forceScroll) {
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  log.append(item);
  if (nearBottom || forceScroll) log.scrollTop = log.scrollHeight;
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

function setDelivery(item, status, reason = "") {
  item.dataset.status = status;
  let note = item.querySelector(".delivery");
  if (!note) {
    note = document.createElement("span");
    note.className = "delivery";
    item.append(note);
  }
  if (status !== "failed") {
    note.textContent = status === "sending" ? "Sending…" : "Sent";
    return;
  }
  note.textContent = `Not sent${reason ? ` (${reason})` : ""}. `;
  const retry = document.createElement("button");
  retry.type = "button";
  retry.className = "link";
  retry.textContent = "Retry";
  retry.addEventListener("click", () => deliver(item.dataset.clientId));
  note.append(retry);
}

function showMessage(message) {
  if (!message || chat.shownIds.has(message.id)) return;
  const mine = !message.is_system && message.sender_id === chat.userId;
  if (mine && chat.pending.has(message.client_id)) {
    markSent(message.client_id, message.id);
    return;
  }
  chat.shownIds.add(message.id);
  const who = message.is_system ? "system" : mine ? "me" : "stranger";
  const item = messageItem({ who, text: message.message, timestamp: message.timestamp });
  item.dataset.id = message.id;
  appendToLog(item, mine);
  if (who === "stranger") {
    showTyping(false);
    countUnread();
  }
}

function sendMessage() {
  const text = input.value.trim();
  if (!text || chat.state !== "chatting") return;
  const clientId = newClientId();
  const item = messageItem({ who: "me", text, timestamp: Date.now() });
  item.dataset.clientId = clientId;
  chat.pending.set(clientId, { text, item, timer: null, viaSocket: false, roomId: chat.roomId });
  appendToLog(item, true);
  input.value = "";
  fitInput();
  stopTyping();
  deliver(clientId);
}

// Over the socket when it is up, else over HTTP; a resend reuses the client_id, so the
// server stores the message once however often it is retried.
function deliver(clientId) {
  const pending = chat.pending.get(clientId);
  if (!pending) return;
  if (pending.roomId !== chat.roomId || !LIVE.has(chat.state)) {
    markFailed(clientId, "the chat has ended");
    return;
  }
  setDelivery(pending.item, "sending");
  clearTimeout(pending.timer);
  pending.viaSocket = sendFrame({ type: "message", text: pending.text, client_id: clientId });
  if (pending.viaSocket) {
    pending.timer = setTimeout(() => markFailed(clientId, "no answer from the server"), ACK_TIMEOUT_MS);
    return;
  }
  post("/api/chat/message", { room_id: pending.roomId, text: pending.text, client_id: clientId })
    .then((message) => markSent(clientId, message.id))
    .catch((error) => markFailed(clientId, error.detail));
}

function markSent(clientId, id) {
  const pending = chat.pending.get(clientId);
  if (!pending) return;
  clearTimeout(pending.timer);
  chat.pending.delete(clientId);
  pending.item.dataset.id = id;
  chat.shownIds.add(id);
  setDelivery(pending.item, "sent");
}

function markFailed(clientId, reason) {
  const pending = chat.pending.get(clientId);
  if (!pending) return;
  clearTimeout(pending.timer);
  setDelivery(pending.item, "failed", reason);
}

function failPending(reason) {
  for (const clientId of chat.pending.keys()) markFailed(clientId, reason);
  chat.pending.clear();
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- typing ---------------------------------------------------------------------------

let typingSent = false;
let typingIdleTimer = null;
let typingShownTimer = null;

function noteTyping() {
  if (chat.state !== "chatting") return;
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  if (!typingSent) typingSent = sendFrame({ type: "typing", is_typing: true });
  clearTimeout(typingIdleTimer);
  typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingIdleTimer);
  if (typingSent) sendFrame({ type: "typing", is_typing: false });
  typingSent = false;
}

function showTyping(isTyping) {
  clearTimeout(typingShownTimer);
  typingLine.hidden = !isTyping;
  // If the "stopped typing" frame is lost, do not claim they are typing forever.
  if (isTyping) typingShownTimer = setTimeout(() => showTyping(false), TYPING_SHOWN_MAX_MS);
}

// --- unread count in the tab title ----------------------------------------------------

const baseTitle = document.title;
let unread = 0;

function countUnread() {
  if (!document.hidden) return;
  unread += 1;
  document.title = `(${unread}) ${baseTitle}`;
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  unread = 0;
  document.title = baseTitle;
});

// --- keyboard and buttons ---------------------------------------------------------------

let escapeArmedUntil = 0;
let escapeTimer = null;

function armEscape() {
  escapeArmedUntil = performance.now() + ESC_WINDOW_MS;
  endButton.textContent = "Really?";
  endButton.classList.add("armed");
  clearTimeout(escapeTimer);
  escapeTimer = setTimeout(disarmEscape, ESC_WINDOW_MS);
}

function disarmEscape() {
  escapeArmedUntil = 0;
  clearTimeout(escapeTimer);
  endButton.textContent = "End";
  endButton.classList.remove("armed");
}

const escapeArmed = () => performance.now() < escapeArmedUntil;

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || reportDialog.open || event.isComposing) return;
  event.preventDefault();
  if (!LIVE.has(chat.state)) findStranger();
  else if (escapeArmed()) findStranger();
  else armEscape();
});

endButton.addEventListener("click", () => (escapeArmed() ? endChat() : armEscape()));
nextButton.addEventListener("click", findStranger);
videoButton.addEventListener("click", () => (call.isOn ? call.stop() : call.start()));

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  }
});
input.addEventListener("input", () => {
  fitInput();
  noteTyping();
});
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
  input.focus();
});

function fitInput() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

// --- reporting ------------------------------------------------------------------------------

const reportForm = reportDialog.querySelector("[data-report-form]");
setUpReportForm(reportForm, {
  getRoomId: () => lastPairedRoom(),
  onSent: () => setTimeout(() => reportDialog.close(), 1500),
});
reportButton.addEventListener("click", () => {
  reportForm.elements.room_id.value = lastPairedRoom() || "";
  reportForm.querySelector("[data-report-success]").hidden = true;
  reportDialog.showModal();
});
reportDialog.querySelector("[data-report-cancel]").addEventListener("click", () => reportDialog.close());

// --- go -------------------------------------------------------------------------------------

if (!hasAgreedToRules()) {
  location.replace("/"); // the rules come first
} else {
  showPresence();
  findStranger();
}
