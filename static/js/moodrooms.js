// The mood room list: how many people are in each mood, Join, and your name.

import { ApiError, get, post, request } from "./api.js";
import { renderAvatar } from "./moodroom-avatar.js";
import { ErrorCode } from "./protocol.js";

const list = document.getElementById("mood-list");
const listError = document.getElementById("rooms-error");
const moodSelect = document.getElementById("mood-select");
const MOOD_KEY = "whimsy.mood";
const REFRESH_MS = 10000;

function showError(message) {
  listError.textContent = message;
  listError.hidden = !message;
}

function sessionItem(session) {
  const item = document.createElement("li");
  item.className = "session";
  const label = document.createElement("span");
  const full = session.current_participants >= session.max_participants;
  label.textContent = `${session.name}: ${session.current_participants} of ${session.max_participants}${full ? " (full)" : ""}`;
  const join = document.createElement("button");
  join.type = "button";
  join.className = "link";
  join.textContent = `Join ${session.name}`;
  join.addEventListener("click", () => joinRoom(`/api/sessions/${session.id}/join`, {}));
  item.append(label, " ", join);
  return item;
}

async function refresh() {
  let sessions;
  try {
    sessions = (await get("/api/sessions")).results;
  } catch (error) {
    showError(error.detail);
    return;
  }
  showError("");
  for (const card of list.querySelectorAll("[data-category]")) {
    const mine = sessions.filter((session) => session.category === card.dataset.category);
    const people = mine.reduce((sum, session) => sum + session.current_participants, 0);
    card.querySelector("[data-count]").textContent = people === 1 ? "1 person here" : `${people} people here`;
    const seeded = mine[0];
    card.querySelector("[data-description]").textContent = seeded ? seeded.description : "";
    card.querySelector("[data-sessions]").replaceChildren(...(mine.length > 1 ? mine.map(sessionItem) : []));
  }
  list.setAttribute("aria-busy", "false");
}

function chosenMood() {
  return moodSelect.value ? { mood: moodSelect.value } : {};
}

async function joinRoom(path, body) {
  showError("");
  try {
    const { session } = await post(path, { ...body, ...chosenMood() });
    location.assign(`/rooms/${session.id}/`);
  } catch (error) {
    showError(error.code === ErrorCode.ROOM_FULL ? "This room is full. Join the mood instead: we find you a place." : error.detail);
    refresh();
  }
}

for (const card of list.querySelectorAll("[data-category]")) {
  card.querySelector("[data-join]").addEventListener("click", () =>
    joinRoom("/api/sessions/join", { category: card.dataset.category }),
  );
}

moodSelect.value = localStorage.getItem(MOOD_KEY) || "";
moodSelect.addEventListener("change", () => localStorage.setItem(MOOD_KEY, moodSelect.value));

// --- your name -------------------------------------------------------------------------

const renameButton = document.getElementById("rename-button");
const renameForm = document.getElementById("rename-form");
const renameInput = document.getElementById("rename-input");
const renameError = document.getElementById("rename-error");

function showMe(me) {
  document.getElementById("me-name").textContent = me.username;
  renderAvatar(document.getElementById("me-avatar"), me.avatar);
}

renameButton.addEventListener("click", () => {
  const open = renameForm.hidden;
  renameForm.hidden = !open;
  renameButton.setAttribute("aria-expanded", String(open));
  if (open) {
    renameInput.value = document.getElementById("me-name").textContent;
    renameInput.focus();
    renameInput.select();
  }
});

renameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  renameError.hidden = true;
  try {
    showMe(await request("PATCH", "/api/me", { username: renameInput.value }));
    renameForm.hidden = true;
    renameButton.setAttribute("aria-expanded", "false");
    renameButton.focus();
  } catch (error) {
    renameError.textContent = error instanceof ApiError ? error.detail : String(error);
    renameError.hidden = false;
  }
});

get("/api/me").then(showMe, (error) => showError(error.detail));
refresh();
setInterval(refresh, REFRESH_MS);
