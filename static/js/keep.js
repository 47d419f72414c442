// The chat page's "Keep in touch": ask while the chat lasts or within five minutes after it
// ended; see the stranger's ask ("Stranger would like to keep in touch"); and, once both
// asked, the link to the thread. Only two asks make a thread; a lone one makes nothing.

import { post } from "./api.js";
import { ErrorCode, Frame } from "./protocol.js";
import { toast } from "./toast.js";

// Room states (room.js) in which the room just had a stranger in it.
const KEEPABLE = new Set(["chatting", "partner-left", "you-left", "gone"]);
// After the chat ended the room socket is closed, so an asker waiting for the stranger's answer
// asks again now and then (asking is idempotent) until it is kept or the window has passed.
const RECHECK_MS = 5000;

const WORDS = {
  idle: "",
  asked: "You asked to keep in touch. If the stranger asks too, you get a thread.",
  requested: "Stranger would like to keep in touch.",
  kept: "You're keeping in touch! ",
  expired: "Too late to keep in touch with this stranger.",
};

// room: the page's ChatRoom; toolbar: where the button goes.
export function setUpKeepInTouch({ room, toolbar }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.id = "keep-button";
  const line = document.createElement("p");
  line.className = "keep-status";
  line.id = "keep-status";
  line.setAttribute("role", "status");
  toolbar.append(button, line);

  let roomId = null;
  let state = "idle";
  let threadId = null;
  let recheck = null;

  function render() {
    const view = room.el.view;
    view.dataset.keep = state;
    button.hidden = !roomId || state === "kept" || state === "expired";
    button.disabled = state === "asked";
    button.textContent = state === "requested" ? "Keep in touch too" : state === "asked" ? "Asked" : "Keep in touch";
    button.classList.toggle("primary", state === "requested");
    line.textContent = WORDS[state];
    if (state === "kept") {
      const link = document.createElement("a");
      link.href = `/threads/${threadId}/`;
      link.target = "_blank";
      link.rel = "noopener";
      link.id = "thread-link";
      link.textContent = "Open your thread";
      line.append(link);
    }
  }

  function setState(next, id = null) {
    state = next;
    if (id) threadId = id;
    clearTimeout(recheck);
    recheck = null;
    if (state === "asked" && room.state !== "chatting") recheck = setTimeout(ask, RECHECK_MS);
    render();
  }

  // The room changed (a new chat, Next) or ended: a new room starts from nothing.
  function follow() {
    const keepable = KEEPABLE.has(room.state) && room.roomId ? room.roomId : null;
    if (keepable !== roomId) {
      roomId = keepable;
      setState("idle");
    } else if (state === "asked" && !recheck && room.state !== "chatting") {
      setState("asked"); // ended while waiting: keep checking
    }
  }

  async function ask() {
    if (!roomId) return;
    const askedFor = roomId;
    try {
      const outcome = await post("/api/chat/keep", { room_id: askedFor });
      if (askedFor !== roomId) return;
      if (outcome.status === "kept") setState("kept", outcome.thread_id);
      else if (state !== "kept") setState("asked");
    } catch (error) {
      if (askedFor !== roomId) return;
      if (error.code === ErrorCode.KEEP_EXPIRED || error.code === ErrorCode.NO_PARTNER) setState("expired");
      else {
        toast(error.detail);
        if (state === "asked") setState("idle");
      }
    }
  }

  button.addEventListener("click", () => {
    setState("asked");
    ask();
  });

  // The room socket's keep frames, beside the room's own handlers.
  const roomHandlers = room.frameHandlers.bind(room);
  room.frameHandlers = () => ({
    ...roomHandlers(),
    [Frame.KEEP_REQUESTED]: (frame) => {
      if (frame.room_id !== roomId || frame.user_id === room.userId || state === "asked" || state === "kept") return;
      setState("requested");
    },
    [Frame.KEPT]: (frame) => {
      if (frame.room_id === roomId) setState("kept", frame.thread_id);
    },
  });

  new MutationObserver(follow).observe(room.el.view, { attributes: true, attributeFilter: ["data-state", "data-room"] });
  follow();
}
