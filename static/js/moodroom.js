// A mood room: members, messages with replies, reactions and edits, typing, Leave.
// Frames and error codes are the server's (moodrooms/protocol.py, DESIGN section 12).

import { get, post } from "./api.js";
import { appendKeepingBottom } from "./message-list.js";
import { avatarElement } from "./moodroom-avatar.js";
import { Close, ErrorCode, Frame } from "./protocol.js";
import { setUpReportForm } from "./report-form.js";
import { ReconnectingSocket } from "./socket.js";
import { toast } from "./toast.js";
import { Typing } from "./typing.js";
import { VoiceMesh } from "./voice-mesh.js";

const root = document.getElementById("moodroom");
const config = JSON.parse(root.dataset.config);
const sessionId = config.session_id;
const $ = (id) => document.getElementById(id);
const log = $("log");
const input = $("message-input");
const TYPING_SHOWN_MAX_MS = 8000;

const state = {
  me: null, // my user_id
  members: new Map(), // user_id -> participant
  reconnecting: new Set(),
  messages: new Map(), // id -> message
  typing: new Map(), // user_id -> {username, timer}
  replyTo: null, // message being answered
  editing: null, // my message being edited
  left: false,
  clientSeq: 0,
  reported: null, // the member the report dialog is about: {user_id, username}
};

// --- the socket --------------------------------------------------------------------------

const socket = new ReconnectingSocket(`/ws/sessions/${sessionId}/`, {
  handlers: {
    [Frame.ROOM_JOINED]: onRoomJoined,
    [Frame.USER_JOINED]: (frame) => upsertMember(frame.user),
    user_updated: (frame) => upsertMember(frame.user),
    [Frame.USER_LEFT]: onUserLeft,
    [Frame.USER_RECONNECTING]: (frame) => {
      voice.memberReconnecting(frame.user_id);
      setReconnecting(frame.user_id, true);
    },
    [Frame.USER_RESUMED]: (frame) => setReconnecting(frame.user_id, false),
    [Frame.NEW_MESSAGE]: (frame) => addMessage(frame.message),
    [Frame.MESSAGE_ACK]: () => {},
    [Frame.MESSAGE_EDITED]: (frame) => onEdited(frame.message),
    [Frame.REACTION]: onReaction,
    [Frame.TYPING]: onTyping,
    [Frame.ERROR]: onError,
    [Frame.VOICE_STATUS]: (frame) => voice.onStatus(frame),
    [Frame.SIGNAL]: (frame) => voice.onSignal(frame),
  },
  onStatus: (status) => {
    const line = $("connection");
    line.hidden = status === "open" || state.left;
    line.textContent = status === "reconnecting" ? "Connection lost. Reconnecting…" : "Connecting…";
  },
  onEnd: onSocketEnd,
});

// Group voice (static/js/voice-mesh.js): its panel sits above the member list.
const voice = new VoiceMesh({
  send: (frame) => socket.send(frame),
  nameOf: (userId) => (state.members.get(userId) || { username: "someone" }).username,
  notify: toast,
});
voice.mount(document.querySelector(".members"));

function send(frame) {
  if (socket.send(frame)) return true;
  toast("Not connected right now. Please try again in a moment.");
  return false;
}

async function onRoomJoined(frame) {
  state.me = frame.you.user_id;
  $("room-name").textContent = frame.session.name;
  document.title = `${frame.session.name} — Whimsy`;
  $("room-description").textContent = frame.session.description;
  state.members = new Map(frame.participants.map((member) => [member.user_id, member]));
  state.reconnecting.clear();
  renderMembers();
  voice.roomJoined(frame);
  $("room-ended").hidden = true;
  // Everything up to now (a first visit, or what was missed while reconnecting).
  try {
    const page = await get(`/api/sessions/${sessionId}/messages?limit=50`);
    for (const message of page.results) addMessage(message);
  } catch (error) {
    toast(error.detail);
  }
}

function onSocketEnd(code, lastError) {
  const errorCode = lastError && lastError.code;
  if (state.left) return;
  if (errorCode === ErrorCode.BANNED) return ended(`You were removed by a moderator. ${lastError.detail}`);
  if (errorCode === "not_member") return ended("You are not in this room.", { canJoin: true });
  if (code === Close.NOT_FOUND) return ended("This room has closed.");
  if (code === Close.FORBIDDEN) return ended(state.removedText || "You were removed by a moderator.");
  ended("You left this room.");
}

function ended(text, { canJoin = false } = {}) {
  voice.end();
  $("room-ended-text").textContent = text;
  $("join-here").hidden = !canJoin;
  $("room-ended").hidden = false;
  $("composer").hidden = true;
  $("leave-button").hidden = true;
  $("connection").hidden = true;
  $("room-ended").querySelector(canJoin ? "#join-here" : "a").focus();
}

$("join-here").addEventListener("click", async () => {
  try {
    await post(`/api/sessions/${sessionId}/join`, {});
    location.reload();
  } catch (error) {
    $("room-ended-text").textContent = error.code === ErrorCode.ROOM_FULL ? "This room is full." : error.detail;
    $("join-here").hidden = true;
  }
});

function onError(frame) {
  if (voice.onError(frame)) return;
  if (["not_member", ErrorCode.NO_SESSION, "session_not_found", ErrorCode.BANNED].includes(frame.code)) return; // onEnd says it
  if (frame.client_id && state.pendingText && state.pendingText.clientId === frame.client_id) {
    input.value = input.value || state.pendingText.text;
  }
  toast(frame.detail);
}

// --- members -----------------------------------------------------------------------------

function upsertMember(member) {
  state.members.set(member.user_id, member);
  renderMembers();
}

function onUserLeft(frame) {
  if (frame.user_id === state.me) {
    state.removedText = frame.reason === "closed" ? "This room was closed by a moderator." : null;
    return; // the server closes this socket next
  }
  state.members.delete(frame.user_id);
  state.reconnecting.delete(frame.user_id);
  voice.memberLeft(frame.user_id);
  setTyping(frame.user_id, null, false);
  renderMembers();
}

function setReconnecting(userId, on) {
  if (on) state.reconnecting.add(userId);
  else state.reconnecting.delete(userId);
  renderMembers();
}

function renderMembers() {
  const items = [...state.members.values()].map((member) => {
    const item = document.createElement("li");
    item.className = "member";
    item.dataset.userId = member.user_id;
    const name = document.createElement("span");
    name.className = "member-name";
    name.textContent = member.username + (member.user_id === state.me ? " (you)" : "");
    const details = document.createElement("span");
    details.className = "member-mood";
    const parts = [];
    if (member.mood) parts.push(`feeling ${member.mood}`);
    if (state.reconnecting.has(member.user_id)) parts.push("reconnecting…");
    details.textContent = parts.join(" · ");
    item.append(avatarElement(member.avatar), name, details);
    if (member.user_id !== state.me) item.append(reportButton(member));
    voice.decorate(item, member.user_id);
    return item;
  });
  $("member-list").replaceChildren(...items);
  $("member-count").textContent = `(${state.members.size})`;
}

// --- reporting a member -----------------------------------------------------------------

const reportDialog = $("report-dialog");
const reportForm = reportDialog.querySelector("[data-report-form]");
setUpReportForm(reportForm, {
  getSubject: () => state.reported && { session_id: sessionId, reported_user_id: state.reported.user_id },
  onSent: () => setTimeout(() => reportDialog.close(), 1500),
});
reportDialog.querySelector("[data-report-cancel]").addEventListener("click", () => reportDialog.close());

function reportButton(member) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link member-report";
  button.textContent = "Report";
  button.setAttribute("aria-label", `Report ${member.username}`);
  button.addEventListener("click", () => {
    state.reported = { user_id: member.user_id, username: member.username };
    $("report-title").textContent = `Report ${member.username}`;
    reportForm.querySelector("[data-report-success]").hidden = true;
    reportDialog.showModal();
  });
  return button;
}

// --- messages ----------------------------------------------------------------------------

function shortText(text, max = 80) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function addMessage(message) {
  const known = state.messages.get(message.id);
  state.messages.set(message.id, { ...message, reactions: known ? known.reactions : message.reactions });
  if (message.user_id) setTyping(message.user_id, null, false);
  const element = renderMessage(state.messages.get(message.id));
  const existing = log.querySelector(`[data-id="${message.id}"]`);
  if (existing) existing.replaceWith(element);
  else appendKeepingBottom(log, element, message.user_id === state.me);
}

function onEdited(message) {
  const known = state.messages.get(message.id);
  if (!known) return;
  // Keep my own "mine" flags: the frame's reactions are the editor's view.
  addMessage({ ...message, reactions: known.reactions });
  for (const reply of state.messages.values()) {
    if (reply.reply_to === message.id) addMessage(reply); // their quotes show the new text
  }
}

function renderMessage(message) {
  const item = document.createElement("li");
  item.dataset.id = message.id;
  const type = message.message_type;
  if (type === "system") {
    item.className = "rmsg system";
    item.textContent = message.content;
    return item;
  }
  if (type === "mood-check") return renderMoodCheck(message, item);
  const mine = message.user_id === state.me;
  item.className = `rmsg ${type === "ai-prompt" ? "prompt" : mine ? "me" : "them"}`;
  const head = document.createElement("p");
  head.className = "rmsg-head";
  const member = message.user_id ? state.members.get(message.user_id) : null;
  if (member) head.append(avatarElement(member.avatar, "avatar small"));
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = type === "ai-prompt" ? "Conversation starter" : mine ? "You" : message.sender_name;
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  head.append(who, time);
  if (message.is_edited) {
    const edited = document.createElement("span");
    edited.className = "edited";
    edited.textContent = "edited";
    head.append(edited);
  }
  item.append(head);
  if (message.reply_to) {
    const quoted = state.messages.get(message.reply_to);
    const quote = document.createElement("blockquote");
    quote.className = "quote";
    quote.textContent = quoted ? `${quoted.sender_name}: ${shortText(quoted.content)}` : "An earlier message";
    item.append(quote);
  }
  const body = document.createElement("p");
  body.className = "rmsg-body";
  body.textContent = message.content;
  item.append(body, renderReactions(message), renderActions(message, mine));
  return item;
}

function renderMoodCheck(message, item) {
  item.className = "rmsg mood-check";
  const question = document.createElement("p");
  question.textContent = message.content;
  const choices = document.createElement("div");
  choices.className = "mood-choices";
  const me = state.members.get(state.me);
  for (const mood of config.moods) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "chip";
    button.textContent = mood;
    button.setAttribute("aria-pressed", String(Boolean(me && me.mood === mood)));
    button.addEventListener("click", async () => {
      try {
        upsertMember(await post(`/api/sessions/${sessionId}/mood`, { mood }));
        for (const other of choices.children) other.setAttribute("aria-pressed", String(other === button));
      } catch (error) {
        toast(error.detail);
      }
    });
    choices.append(button);
  }
  item.append(question, choices);
  return item;
}

function renderReactions(message) {
  const chips = document.createElement("div");
  chips.className = "reactions";
  for (const reaction of message.reactions || []) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.emoji = reaction.emoji;
    chip.setAttribute("aria-pressed", String(reaction.mine));
    chip.setAttribute("aria-label", `${reaction.emoji} ${reaction.count}: ${reaction.mine ? "take back" : "react"}`);
    chip.textContent = `${reaction.emoji} ${reaction.count}`;
    chip.addEventListener("click", () => send({ type: Frame.REACT, message_id: message.id, emoji: reaction.emoji }));
    chips.append(chip);
  }
  return chips;
}

function renderActions(message, mine) {
  const actions = document.createElement("div");
  actions.className = "rmsg-actions";
  const button = (label, onClick, extra = {}) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "link";
    element.textContent = label;
    for (const [key, value] of Object.entries(extra)) element.setAttribute(key, value);
    element.addEventListener("click", onClick);
    actions.append(element);
    return element;
  };
  button("Reply", () => startReply(message));
  const picker = document.createElement("div");
  picker.className = "picker";
  picker.hidden = true;
  for (const emoji of config.reactions) {
    const choice = document.createElement("button");
    choice.type = "button";
    choice.className = "chip";
    choice.textContent = emoji;
    choice.setAttribute("aria-label", `React with ${emoji}`);
    choice.addEventListener("click", () => {
      picker.hidden = true;
      send({ type: Frame.REACT, message_id: message.id, emoji });
    });
    picker.append(choice);
  }
  const react = button("React", () => {
    picker.hidden = !picker.hidden;
    react.setAttribute("aria-expanded", String(!picker.hidden));
    if (!picker.hidden) picker.firstElementChild.focus();
  }, { "aria-expanded": "false" });
  const age = (Date.now() - new Date(message.created_at).getTime()) / 1000;
  if (mine && message.message_type === "text" && age < config.edit_window_seconds) {
    button("Edit", () => startEdit(message));
  }
  actions.append(picker);
  return actions;
}

function onReaction(frame) {
  const message = state.messages.get(frame.message_id);
  if (!message) return;
  const reactions = [...(message.reactions || [])];
  const index = reactions.findIndex((reaction) => reaction.emoji === frame.emoji);
  const mine = frame.user_id === state.me ? frame.added : index >= 0 && reactions[index].mine;
  if (frame.count === 0) {
    if (index >= 0) reactions.splice(index, 1);
  } else {
    const chip = { emoji: frame.emoji, count: frame.count, mine };
    if (index >= 0) reactions[index] = chip;
    else {
      reactions.push(chip);
      reactions.sort((a, b) => config.reactions.indexOf(a.emoji) - config.reactions.indexOf(b.emoji));
    }
  }
  state.messages.set(message.id, { ...message, reactions });
  const existing = log.querySelector(`[data-id="${message.id}"] .reactions`);
  if (existing) existing.replaceWith(renderReactions(state.messages.get(message.id)));
}

// --- typing ------------------------------------------------------------------------------

function onTyping(frame) {
  setTyping(frame.user_id, frame.username, frame.is_typing);
}

function setTyping(userId, username, isTyping) {
  const known = state.typing.get(userId);
  if (known) clearTimeout(known.timer);
  if (isTyping) {
    // If the "stopped typing" frame is lost, do not claim they are typing forever.
    const timer = setTimeout(() => setTyping(userId, null, false), TYPING_SHOWN_MAX_MS);
    state.typing.set(userId, { username, timer });
  } else {
    state.typing.delete(userId);
  }
  const names = [...state.typing.values()].map((entry) => entry.username);
  const line = $("typing");
  line.hidden = names.length === 0;
  if (names.length === 1) line.textContent = `${names[0]} is typing…`;
  else if (names.length === 2) line.textContent = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) line.textContent = `${names[0]} and ${names.length - 1} others are typing…`;
}

const typing = new Typing({
  input,
  line: $("typing"),
  sendFrame: (frame) => socket.send(frame),
  canType: () => socket.isOpen && !state.editing,
});

// --- composing: send, reply, edit ---------------------------------------------------------

function setComposing(text) {
  $("composing").hidden = !text;
  $("composing-text").textContent = text || "";
}

function startReply(message) {
  state.editing = null;
  state.replyTo = message;
  setComposing(`Replying to ${message.sender_name}: ${shortText(message.content, 50)}`);
  input.focus();
}

function startEdit(message) {
  state.replyTo = null;
  state.editing = message;
  input.value = message.content;
  setComposing("Editing your message");
  input.focus();
}

function cancelComposing() {
  if (state.editing) input.value = "";
  state.replyTo = null;
  state.editing = null;
  setComposing(null);
}

$("composing-cancel").addEventListener("click", () => {
  cancelComposing();
  input.focus();
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  if (state.editing) {
    if (!send({ type: Frame.EDIT, message_id: state.editing.id, text })) return;
  } else {
    state.clientSeq += 1;
    const clientId = `${Date.now().toString(36)}-${state.clientSeq}-${Math.random().toString(36).slice(2, 8)}`;
    const frame = { type: Frame.MESSAGE, text, client_id: clientId };
    if (state.replyTo) frame.reply_to = state.replyTo.id;
    if (!send(frame)) return;
    state.pendingText = { clientId, text };
    typing.stop();
  }
  input.value = "";
  cancelComposing();
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  } else if (event.key === "Escape" && (state.replyTo || state.editing)) {
    event.preventDefault();
    cancelComposing();
  }
});
input.addEventListener("input", () => typing.noteInput());

// --- leaving -----------------------------------------------------------------------------

// Over HTTP, so the stay has ended when the page moves on. Closing the tab without Leave
// is not a leave: the grace period keeps the place for a reload, and ends it after.
$("leave-button").addEventListener("click", async () => {
  state.left = true;
  try {
    await post(`/api/sessions/${sessionId}/leave`);
  } catch {
    // Gone already (another tab, a moderator): nothing to undo.
  }
  socket.stop();
  location.assign("/rooms/");
});

socket.open();
