// The live "N people online now" count, pushed by the server on /ws/presence/.

import { Frame } from "./protocol.js";
import { ReconnectingSocket } from "./socket.js";

export function describeOnline(count) {
  return count === 1 ? "1 person online now" : `${count.toLocaleString()} people online now`;
}

export function showPresence() {
  const targets = document.querySelectorAll("[data-online-count]");
  if (!targets.length) return null;
  const socket = new ReconnectingSocket("/ws/presence/", {
    handlers: {
      [Frame.PRESENCE](frame) {
        if (!Number.isInteger(frame.online)) return;
        for (const target of targets) {
          target.textContent = describeOnline(frame.online);
          target.dataset.online = String(frame.online);
        }
      },
    },
  });
  socket.open();
  return socket;
}
