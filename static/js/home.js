// Home page: interests, text or video, the one-time rules confirmation, Start.

import { agreeToRules, forgetCurrentRoom, hasAgreedToRules, loadPrefs, savePrefs } from "./prefs.js";
import { showPresence } from "./presence.js";

const form = document.getElementById("start-form");
const input = document.getElementById("interest-input");
const tagList = document.getElementById("tags");
const rules = document.getElementById("rules");
const agree = document.getElementById("agree");
const errorBox = document.getElementById("start-error");
const maxTags = Number(document.getElementById("interest-help").dataset.maxInterests);
const maxLength = input.maxLength;

const prefs = loadPrefs();
let tags = prefs.interests.slice(0, maxTags);
form.elements.mode.value = prefs.mode;

// Same normalisation as the server: trimmed, single spaces, lower case.
const normalise = (text) => text.split(/\s+/).filter(Boolean).join(" ").toLowerCase();

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function renderTags() {
  tagList.replaceChildren(
    ...tags.map((tag) => {
      const item = document.createElement("li");
      item.className = "tag";
      const label = document.createElement("span");
      label.textContent = tag;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.setAttribute("aria-label", `Remove ${tag}`);
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        tags = tags.filter((t) => t !== tag);
        renderTags();
        input.focus();
      });
      item.append(label, remove);
      return item;
    }),
  );
  input.disabled = tags.length >= maxTags;
  input.placeholder = input.disabled ? `That's ${maxTags}, the most you can add` : "Add a topic, press Enter";
}

function addTag(raw) {
  const tag = normalise(raw);
  if (!tag) return true;
  if (tag.length > maxLength) {
    showError(`Interests can be at most ${maxLength} characters.`);
    return false;
  }
  if (tags.length >= maxTags) {
    showError(`You can add up to ${maxTags} interests.`);
    return false;
  }
  if (!tags.includes(tag)) tags.push(tag);
  showError("");
  renderTags();
  return true;
}

input.addEventListener("keydown", (event) => {
  if ((event.key === "Enter" || event.key === ",") && !event.isComposing) {
    event.preventDefault();
    if (addTag(input.value)) input.value = "";
  } else if (event.key === "Backspace" && !input.value && tags.length) {
    tags.pop();
    renderTags();
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (input.value.trim() && !addTag(input.value)) return;
  input.value = "";
  if (!hasAgreedToRules()) {
    if (!agree.checked) {
      showError("Please confirm that you are 18 or older and agree to the rules.");
      agree.focus();
      return;
    }
    agreeToRules();
  }
  savePrefs({ mode: form.elements.mode.value, interests: tags });
  forgetCurrentRoom(); // Start means a new chat, not the one this tab was in before
  location.assign("/chat/");
});

rules.hidden = hasAgreedToRules();
renderTags();
showPresence();
