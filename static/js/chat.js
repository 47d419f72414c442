// The chat page's entry point: finds the page's elements and wires them to the chat room.

import { setUpKeepInTouch } from "./keep.js";
import { currentRoom, hasAgreedToRules, lastPairedRoom } from "./prefs.js";
import { showPresence } from "./presence.js";
import { setUpReportForm } from "./report-form.js";
import { ChatRoom } from "./room.js";
import { setUpShortcuts } from "./shortcuts.js";

const $ = (id) => document.getElementById(id);
const input = $("message-input");
const reportDialog = $("report-dialog");

// --- unread count in the tab title ------------------------------------------------------

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

// --- the chat ---------------------------------------------------------------------------

const room = new ChatRoom(
  {
    view: $("chat"),
    log: $("log"),
    typing: $("typing"),
    input,
    send: $("send-button"),
    end: $("end-button"),
    next: $("next-button"),
    video: $("video-button"),
    report: $("report-button"),
    connection: $("connection"),
    partnerStatus: $("partner-status"),
    call: {
      section: $("video"),
      local: $("local-video"),
      remote: $("remote-video"),
      status: $("video-status"),
      statusText: $("video-status-text"),
      retryButton: $("video-retry"),
      micButton: $("mute-mic"),
      cameraButton: $("mute-camera"),
    },
  },
  { onStrangerMessage: countUnread },
);
setUpKeepInTouch({ room, toolbar: $("chat").querySelector(".toolbar") });

function fitInput() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

function sendMessage() {
  room.sendMessage();
  fitInput();
}

setUpShortcuts({
  input,
  endButton: $("end-button"),
  nextButton: $("next-button"),
  isLive: () => room.isLive,
  isBlocked: () => reportDialog.open,
  onSend: sendMessage,
  onEnd: () => room.endChat(),
  onNext: () => room.findStranger(),
});
$("video-button").addEventListener("click", () => room.toggleVideo());
input.addEventListener("input", () => {
  fitInput();
  room.typing.noteInput();
});
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
  input.focus();
});

// --- reporting --------------------------------------------------------------------------

const reportForm = reportDialog.querySelector("[data-report-form]");
setUpReportForm(reportForm, {
  getSubject: () => (lastPairedRoom() ? { room_id: lastPairedRoom() } : null),
  onSent: () => setTimeout(() => reportDialog.close(), 1500),
});
$("report-button").addEventListener("click", () => {
  reportForm.elements.room_id.value = lastPairedRoom() || "";
  reportForm.querySelector("[data-report-success]").hidden = true;
  reportDialog.showModal();
});
reportDialog.querySelector("[data-report-cancel]").addEventListener("click", () => reportDialog.close());

// --- closing the page -------------------------------------------------------------------
//
// Closing the tab ends the chat at once (the stranger is told now, not after the grace); a
// reload must not, since the reloaded page resumes the chat. A page cannot ask whether it is
// being reloaded, so it notes the reloads it can see: the reload keys (F5, Ctrl/Cmd+R) and,
// where the Navigation API exists, a navigate event of type "reload". A page kept for
// Back/Forward (pagehide with persisted) comes back and resumes too. See docs/decisions.md.

const RELOAD_NOTICE_MS = 10000;
let reloadNotedAt = -Infinity;
const noteReload = () => {
  reloadNotedAt = performance.now();
};

document.addEventListener("keydown", (event) => {
  if (event.key === "F5" || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "r")) noteReload();
});
if (window.navigation) {
  window.navigation.addEventListener("navigate", (event) => {
    if (event.navigationType === "reload") noteReload();
  });
}
window.addEventListener("pagehide", (event) => {
  if (event.persisted || performance.now() - reloadNotedAt < RELOAD_NOTICE_MS) return;
  room.leaveOnClose();
});

// --- go ---------------------------------------------------------------------------------

if (!hasAgreedToRules()) {
  location.replace("/"); // the rules come first
} else {
  showPresence();
  const saved = currentRoom();
  if (saved) room.resume(saved);
  else room.findStranger();
}
