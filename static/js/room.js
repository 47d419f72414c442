// The 1:1 chat's state machine: find a stranger, talk, skip, end; the room socket and what
// its frames (DESIGN.md §10) do to the page.
//
// States: starting -> searching -> chatting, and the ends of a chat: partner-left, you-left,
// gone, stopped, banned. data-state on the view shows the state, data-room and data-socket
// the room and its socket, data-partner whether the stranger's connection is away.
//
// A blip or a reload does not end the chat (DESIGN.md §11): the socket comes back to the same
// room within the server's grace, the page fetches what it missed and the call restarts ICE.
// The tab remembers its room (sessionStorage) so that a reloaded page resumes it instead of
// looking for someone new; if the room has ended meanwhile, the page says so.

import { get, post, postOnUnload } from "./api.js";
import { MessageLog } from "./messages.js";
import {
  forgetCurrentRoom,
  lastPairedRoom,
  loadPrefs,
  rememberCurrentRoom,
  rememberPairedRoom,
} from "./prefs.js";
import { CLOSING_ERRORS, Close, ErrorCode, Frame, LeftReason } from "./protocol.js";
import { ReconnectingSocket } from "./socket.js";
import { toast } from "./toast.js";
import { Typing } from "./typing.js";
import { VideoCall } from "./video.js";

// Live states: where the user talks or waits. The rest are ends of a chat.
const LIVE = new Set(["starting", "searching", "chatting"]);
const HISTORY_PAGE = 50;
const MAX_CATCH_UP_PAGES = 20;

const PARTNER_LEFT_WORDS = {
  [LeftReason.SKIPPED]: "Stranger has disconnected. They moved on to someone new.",
  [LeftReason.ENDED]: "Stranger has disconnected. They ended the chat.",
  [LeftReason.LOST]: "Stranger has disconnected. Their connection dropped and did not come back.",
  [LeftReason.BANNED]: "Stranger has disconnected. They were removed for breaking the rules.",
};

export class ChatRoom {
  // el: {view, log, typing, input, send, end, next, video, report, connection, partnerStatus, call: {…}}
  // onStrangerMessage() when a message from the stranger is shown.
  constructor(el, { onStrangerMessage }) {
    this.el = el;
    this.state = "starting";
    this.roomId = null;
    this.userId = null;
    this.partnerId = null;
    this.socket = null;
    this.busy = false; // a start, next or leave call is in flight
    this.leaving = false; // our own leave must not read as the stranger leaving
    this.announcedRoom = null; // the room whose "you're now chatting" line is shown

    const sendFrame = (frame) => (this.socket ? this.socket.send(frame) : false);
    this.messages = new MessageLog(el.log, {
      sendFrame,
      liveRoomId: () => (this.isLive ? this.roomId : null),
      userId: () => this.userId,
      onStrangerMessage: () => {
        this.typing.show(false);
        onStrangerMessage();
      },
    });
    this.typing = new Typing({
      input: el.input,
      line: el.typing,
      sendFrame,
      canType: () => this.state === "chatting",
    });
    this.call = new VideoCall({
      elements: el.call,
      sendSignal: (kind, payload) => sendFrame({ type: Frame.SIGNAL, kind, payload }),
      isLowerId: () => Boolean(this.userId && this.partnerId) && this.userId < this.partnerId,
      onLocalChange: (on) => {
        el.video.textContent = on ? "Stop video" : "Start video";
        el.video.setAttribute("aria-pressed", String(on));
        el.view.dataset.video = on ? "on" : "off";
      },
      notify: (message, kind = "error") => toast(message, { kind }),
    });
  }

  get isLive() {
    return LIVE.has(this.state);
  }

  // --- state and the lines that describe it ---------------------------------------------

  setState(state) {
    const el = this.el;
    this.state = state;
    el.view.dataset.state = state;
    const chatting = state === "chatting";
    el.input.disabled = !chatting;
    el.send.disabled = !chatting;
    el.end.disabled = !this.isLive || state === "starting";
    el.next.disabled = state === "banned" || state === "starting";
    el.next.textContent = this.isLive ? "Next" : "New chat";
    el.next.classList.toggle("primary", !this.isLive);
    el.video.disabled = !chatting;
    el.report.disabled = !lastPairedRoom();
    if (!chatting) this.typing.show(false);
    if (chatting) el.input.focus();
  }

  showSearching() {
    this.setPartner("");
    this.messages.clear();
    this.messages.systemLine("Looking for someone...", { spinner: true });
    this.setState("searching");
  }

  showChatting(commonInterests) {
    if (this.announcedRoom === this.roomId) return;
    this.announcedRoom = this.roomId;
    rememberPairedRoom(this.roomId);
    this.messages.clear();
    this.messages.systemLine("You're now chatting with a random stranger. Say hi!");
    if (commonInterests && commonInterests.length) this.messages.systemLine(`You both like ${commonInterests.join(", ")}.`);
    this.setState("chatting");
    if (loadPrefs().mode === "video") this.call.start();
  }

  // A reloaded page back in its room.
  showResumed() {
    this.announcedRoom = this.roomId;
    this.messages.clear();
    this.messages.systemLine("You're back in your chat with the stranger.");
    this.setState("chatting");
    if (loadPrefs().mode === "video") this.call.start();
  }

  // The stranger's socket: "" (none yet, or the chat is over), "connected" or "reconnecting".
  setPartner(status) {
    const away = status === "reconnecting";
    const line = this.el.partnerStatus;
    line.hidden = !away;
    line.textContent = away ? "Stranger's connection dropped, waiting..." : "";
    this.el.view.dataset.partner = status;
  }

  showEnded(state, text) {
    if (this.roomId) rememberCurrentRoom(this.roomId, { ended: true });
    else forgetCurrentRoom();
    this.setPartner("");
    this.closeSocket();
    this.call.end();
    this.messages.failPending("The chat ended before this was delivered.");
    this.setState(state);
    this.messages.systemLine(text, { ended: true });
  }

  showBanned(detail) {
    this.showEnded("banned", detail || "You are banned from Whimsy for breaking the rules.");
    toast(detail || "You are banned from Whimsy.");
  }

  // --- finding, skipping and ending -------------------------------------------------------

  async findStranger() {
    if (this.busy || this.state === "banned") return;
    this.busy = true;
    const inOpenRoom = this.roomId && (this.state === "searching" || this.state === "chatting");
    const prefs = loadPrefs();
    const body = { mode: prefs.mode, interests: prefs.interests };
    this.leaving = true;
    this.call.end();
    this.messages.failPending("you moved on to a new chat");
    this.showSearching();
    this.el.view.dataset.room = "";
    try {
      // Next leaves the old room and finds a new one in one call; only then do we drop its
      // socket, because a socket that closes leaves its room too.
      const match = inOpenRoom
        ? await post("/api/chat/next", { ...body, room_id: this.roomId })
        : await post("/api/chat/start", body);
      this.enterRoom(match);
    } catch (error) {
      if (error.code === ErrorCode.BANNED) this.showBanned(error.detail);
      else this.showEnded("stopped", `Could not start a chat: ${error.detail}`);
    } finally {
      this.busy = false;
      this.leaving = false;
    }
  }

  async endChat() {
    if (this.busy || !this.roomId || !(this.state === "searching" || this.state === "chatting")) return;
    this.busy = true;
    this.leaving = true;
    try {
      await post("/api/chat/leave", { room_id: this.roomId });
    } catch (error) {
      // Already over on the server: the outcome the user asked for.
      if (error.code !== ErrorCode.ALREADY_LEFT && error.code !== ErrorCode.ROOM_NOT_FOUND) toast(error.detail);
    } finally {
      this.busy = false;
      this.leaving = false;
    }
    this.showEnded("you-left", "You have disconnected.");
  }

  // The page was reloaded (or restored): back to the room this tab was in, or the word that
  // its chat has ended. It never looks for someone new by itself.
  resume({ roomId, ended }) {
    this.roomId = roomId;
    if (ended) {
      this.setState("gone");
      this.messages.systemLine("Your chat has ended. Press New chat to meet someone new.", { ended: true });
      return;
    }
    this.setState("starting");
    this.messages.systemLine("Reconnecting to your chat...", { spinner: true });
    this.connect();
  }

  // The person closes the page for good: end the chat now rather than after the grace, so
  // the stranger is told at once.
  leaveOnClose() {
    if (!this.roomId || !(this.state === "searching" || this.state === "chatting")) return;
    // Both ways, as either can be cut short while the page goes: the frame is on its way
    // before the socket's close, the keepalive request outlives the page. A second leave
    // finds the room over and does nothing.
    if (this.socket) this.socket.send({ type: Frame.LEAVE });
    postOnUnload("/api/chat/leave", { room_id: this.roomId });
  }

  enterRoom(match) {
    this.closeSocket();
    this.roomId = match.room_id;
    this.partnerId = match.partner_id;
    if (match.status === "chatting") this.showChatting(match.common_interests);
    this.connect();
  }

  sendMessage() {
    const text = this.el.input.value.trim();
    if (!text || this.state !== "chatting") return;
    this.el.input.value = "";
    this.typing.stop();
    this.messages.send(text);
  }

  toggleVideo() {
    if (this.call.isOn) this.call.stop();
    else this.call.start();
  }

  // --- the room socket ------------------------------------------------------------------

  connect() {
    const el = this.el;
    let opened = false; // once open, a later open is a reconnect
    this.hadRoomState = false; // once this socket had its room_state, the next one is a resume
    rememberCurrentRoom(this.roomId);
    const socket = new ReconnectingSocket(`/ws/chat/${this.roomId}/`, {
      handlers: this.frameHandlers(),
      onStatus: (status) => {
        el.view.dataset.socket = status;
        el.connection.hidden = status !== "reconnecting";
        el.connection.textContent = status === "reconnecting" ? "Reconnecting..." : "";
        if (status === "open") opened = true;
      },
      onEnd: (code) => {
        if (!this.isLive || this.leaving) return;
        el.connection.hidden = true;
        if (code === Close.NOT_FOUND && opened) this.showEnded("gone", "This chat is gone: it ended while you were disconnected.");
        else if (code === Close.NOT_FOUND) this.showEnded("gone", "This chat has already ended.");
        else if (code === Close.FORBIDDEN) this.showEnded("gone", "You can no longer take part in this chat.");
        else this.showEnded("gone", "The chat has ended.");
      },
    });
    this.socket = socket;
    el.view.dataset.room = this.roomId;
    socket.open();
  }

  closeSocket() {
    if (this.socket) this.socket.stop();
    this.socket = null;
    this.el.view.dataset.socket = "closed";
    this.el.connection.hidden = true;
  }

  frameHandlers() {
    return {
      [Frame.ROOM_STATE]: (frame) => {
        const resumed = this.hadRoomState;
        this.hadRoomState = true;
        this.userId = frame.user_id;
        this.partnerId = frame.partner_id;
        if (this.state === "starting") {
          if (frame.partner_id) this.showResumed();
          else this.showSearching();
        } else if (frame.partner_id && this.state === "searching") {
          this.showChatting(frame.common_interests);
        }
        this.catchUp({ resumed });
        if (resumed) this.call.restartAfterResume();
      },
      [Frame.PARTNER_CONNECTED]: () => {
        this.setPartner("connected");
        this.call.partnerConnected();
      },
      [Frame.PARTNER_RECONNECTING]: () => this.setPartner("reconnecting"),
      [Frame.PARTNER_RESUMED]: () => {
        this.setPartner("connected");
        this.call.restartAfterResume();
      },
      [Frame.PARTNER_JOINED]: (frame) => {
        const moved = frame.room_id && frame.room_id !== this.roomId;
        if (moved) {
          // The settle step moved us into someone else's room: follow it (its room_state
          // brings the history).
          this.roomId = frame.room_id;
          this.closeSocket();
          this.connect();
        }
        this.partnerId = frame.partner_id;
        this.showChatting(frame.common_interests);
        // The stranger's first message may have overtaken this frame (it comes by another
        // path) and was cleared with the waiting line: fetch it again.
        if (!moved) this.catchUp({ resumed: false });
      },
      [Frame.PARTNER_LEFT]: (frame) => {
        if (this.leaving) return;
        this.showEnded("partner-left", PARTNER_LEFT_WORDS[frame.reason] || "Stranger has disconnected.");
      },
      // Our own leave, perhaps from another tab.
      [Frame.CHAT_ENDED]: () => {
        if (!this.leaving) this.showEnded("you-left", "You have disconnected.");
      },
      [Frame.NEW_MESSAGE]: (frame) => this.messages.show(frame.message),
      [Frame.MESSAGE_ACK]: (frame) => this.messages.markSent(frame.client_id, frame.id),
      [Frame.TYPING]: (frame) => this.typing.show(frame.is_typing === true),
      [Frame.SIGNAL]: (frame) => {
        if (this.state === "chatting") this.call.handleSignal(frame.kind, frame.payload);
      },
      [Frame.ERROR]: (frame) => {
        if (frame.code === ErrorCode.BANNED) this.showBanned(frame.detail);
        else if (frame.code === ErrorCode.PARTNER_NOT_CONNECTED && frame.kind) this.call.undelivered(frame.kind);
        else if (CLOSING_ERRORS.has(frame.code)) return; // the close that follows says what happened
        else if (frame.client_id && this.messages.isPending(frame.client_id)) this.messages.markFailed(frame.client_id, frame.detail);
        else toast(frame.detail || "Something went wrong.");
      },
    };
  }

  // Once the socket listens: what was said before it did (right after a match or a reload:
  // the newest page; after a blip: what came after the last message shown), and what we sent
  // over a socket that dropped before its ack came. Messages are shown once each, by id.
  async catchUp({ resumed }) {
    this.messages.resendUnacked();
    const roomId = this.roomId;
    const base = `/api/chat/rooms/${roomId}/messages?limit=${HISTORY_PAGE}`;
    let after = resumed ? this.messages.lastId : null;
    try {
      for (let pages = 0; pages < MAX_CATCH_UP_PAGES; pages += 1) {
        const page = await get(after ? `${base}&after=${after}` : base);
        if (roomId !== this.roomId) return;
        for (const message of page.results) this.messages.show(message);
        if (!after || page.results.length < HISTORY_PAGE) return;
        after = page.results[page.results.length - 1].id;
      }
    } catch (error) {
      toast(`Some messages may be missing: ${error.detail}`, { kind: "info" });
    }
  }
}
