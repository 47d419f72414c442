// What the visitor chose on the home page, remembered in this browser only.

const PREFS_KEY = "whimsy.prefs";
const AGREED_KEY = "whimsy.agreedToRules";
const LAST_ROOM_KEY = "whimsy.lastPairedRoom";

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
