// Keyboard use of the chat: Esc once arms End ("Really?"), Esc again within 3 s moves on to
// someone new; Enter sends, Shift+Enter starts a new line.

const ESC_WINDOW_MS = 3000;

// isLive() -> a chat or search is under way; isBlocked() -> a dialog has the keyboard.
export function setUpShortcuts({ input, endButton, nextButton, isLive, isBlocked, onSend, onEnd, onNext }) {
  let armedUntil = 0;
  let timer = null;

  const arm = () => {
    armedUntil = performance.now() + ESC_WINDOW_MS;
    endButton.textContent = "Really?";
    endButton.classList.add("armed");
    clearTimeout(timer);
    timer = setTimeout(disarm, ESC_WINDOW_MS);
  };
  const disarm = () => {
    armedUntil = 0;
    clearTimeout(timer);
    endButton.textContent = "End";
    endButton.classList.remove("armed");
  };
  const armed = () => performance.now() < armedUntil;
  const next = () => {
    disarm();
    onNext();
  };

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || isBlocked() || event.isComposing) return;
    event.preventDefault();
    if (!isLive() || armed()) next();
    else arm();
  });
  endButton.addEventListener("click", () => {
    if (!armed()) return arm();
    disarm();
    onEnd();
  });
  nextButton.addEventListener("click", next);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      onSend();
    }
  });
}
