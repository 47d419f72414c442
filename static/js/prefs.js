// What the visitor chose on the home page, remembered in this browser only.

const PREFS_KEY = "whimsy.prefs";
const AGREED_KEY = "whimsy.agreedToRules";
const LAST_ROOM_KEY = "whimsy.lastPairedRoom";
const CURRENT_ROOM_KEY = "whimsy.currentRoom";

function read(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null; // storage disabled: behave as a first visit
  }
}

function write(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch {
    // storage disabled or full: the choice lasts for this page only
  }
}

export function loadPrefs() {
  try {
    const prefs = JSON.parse(read(localStorage, PREFS_KEY)) || {};
    return {
      mode: prefs.mode === "video" ? "video" : "text",
      interests: Array.isArray(prefs.interests) ? prefs.interests.filter((t) => typeof t === "string") : [],
    };
  } catch {
    return { mode: "text", interests: [] };
  }
}

export function savePrefs({ mode, interests }) {
  write(localStorage, PREFS_KEY, JSON.stringify({ mode, interests }));
}

export const hasAgreedToRules = () => read(localStorage, AGREED_KEY) === "yes";
export const agreeToRules = () => write(localStorage, AGREED_KEY, "yes");

// The last room in which this tab had a partner: what the report form is about.
export const lastPairedRoom = () => read(sessionStorage, LAST_ROOM_KEY);
export const rememberPairedRoom = (roomId) => write(sessionStorage, LAST_ROOM_KEY, roomId);

// The room this tab is in, or was in when its chat ended, so that a reload resumes it or says
// it ended instead of looking for someone new. Per tab: sessionStorage survives a reload and
// a restored tab, not a new tab.
export function currentRoom() {
  try {
    const saved = JSON.parse(read(sessionStorage, CURRENT_ROOM_KEY));
    return saved && typeof saved.roomId === "string" ? { roomId: saved.roomId, ended: saved.ended === true } : null;
  } catch {
    return null;
  }
}

export function rememberCurrentRoom(roomId, { ended = false } = {}) {
  write(sessionStorage, CURRENT_ROOM_KEY, JSON.stringify({ roomId, ended }));
}

export function forgetCurrentRoom() {
  try {
    sessionStorage.removeItem(CURRENT_ROOM_KEY);
  } catch {
    // storage disabled: nothing was remembered
  }
}
