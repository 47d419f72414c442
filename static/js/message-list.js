// What the conversations' message lists share: appending without pulling a reader who
// scrolled up back down (1:1 room, mood room, thread), and the delivery note under a message
// of mine (1:1 room, thread).

const NEAR_BOTTOM_PX = 80;

// Scrolls to the new item if the list was (nearly) at the bottom, or when forced (mine).
export function appendKeepingBottom(list, item, forceScroll) {
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  list.append(item);
  if (nearBottom || forceScroll) list.scrollTop = list.scrollHeight;
}

// "Sending…", "Sent", or "Not sent" with a Retry button.

// item: the message's <li> (data-client-id); retry(clientId) resends it.
export function setDelivery(item, status, reason, retry) {
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
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link";
  button.textContent = "Retry";
  button.addEventListener("click", () => retry(item.dataset.clientId));
  note.append(button);
}
