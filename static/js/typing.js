// "Stranger is typing…": telling the stranger when I type, and showing when they do.

import { Frame } from "./protocol.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MAX_MS = 8000;

export class Typing {
  // input: my textarea; line: the indicator; sendFrame(frame) -> bool; canType() -> bool
  constructor({ input, line, sendFrame, canType }) {
    Object.assign(this, { input, line, sendFrame, canType });
    this.sent = false; // the stranger was told I am typing
    this.idleTimer = null;
    this.shownTimer = null;
  }

  // On every edit of my message.
  noteInput() {
    if (!this.canType()) return;
    if (!this.input.value.trim()) {
      this.stop();
      return;
    }
    if (!this.sent) this.sent = this.sendFrame({ type: Frame.TYPING, is_typing: true });
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  stop() {
    clearTimeout(this.idleTimer);
    if (this.sent) this.sendFrame({ type: Frame.TYPING, is_typing: false });
    this.sent = false;
  }

  show(isTyping) {
    clearTimeout(this.shownTimer);
    this.line.hidden = !isTyping;
    // If the "stopped typing" frame is lost, do not claim they are typing forever.
    if (isTyping) this.shownTimer = setTimeout(() => this.show(false), TYPING_SHOWN_MAX_MS);
  }
}
