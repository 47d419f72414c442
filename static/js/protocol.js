// The WebSocket vocabulary, mirroring the server's: chat/protocol.py (frames, close codes),
// whimsy_project/errors.py (error codes) and docs/protocol.md. Change a name there, change it here.

// Frame types. Some travel both ways (typing, signal, message); the comment says who sends it.
export const Frame = Object.freeze({
  // 1:1 room, server -> client (DESIGN 10, 11)
  ROOM_STATE: "room_state",
  NEW_MESSAGE: "new_message",
  MESSAGE_ACK: "message_ack",
  TYPING: "typing", // both ways
  PARTNER_JOINED: "partner_joined",
  PARTNER_CONNECTED: "partner_connected",
  PARTNER_LEFT: "partner_left",
  PARTNER_RECONNECTING: "partner_reconnecting",
  PARTNER_RESUMED: "partner_resumed",
  KEEP_REQUESTED: "keep_requested",
  KEPT: "kept",
  SIGNAL: "signal", // both ways
  CHAT_ENDED: "chat_ended",
  ERROR: "error",
  // client -> server
  MESSAGE: "message",
  LEAVE: "leave",
  // /ws/presence/
  PRESENCE: "presence",
  // mood rooms, server -> client (DESIGN 12)
  ROOM_JOINED: "room_joined",
  USER_JOINED: "user_joined",
  USER_LEFT: "user_left",
  USER_RECONNECTING: "user_reconnecting",
  USER_RESUMED: "user_resumed",
  MESSAGE_EDITED: "message_edited",
  REACTION: "reaction",
  VOICE_STATUS: "voice_status", // both ways
  // mood rooms, client -> server
  EDIT: "edit",
  REACT: "react",
  VOICE_JOIN: "voice_join", // group voice (moodrooms/voice.py); signal and voice_status as above
  VOICE_LEAVE: "voice_leave",
  // threads, server -> client
  THREAD_STATE: "thread_state", // the thread socket's first frame
  THREAD_CLOSED: "thread_closed",
});

// Why a partner (partner_left) or a mood-room member (user_left) is gone.
export const LeftReason = Object.freeze({
  SKIPPED: "skipped", // Next
  ENDED: "ended", // End, leave, or the page closed
  LOST: "lost", // did not come back within the grace
  BANNED: "banned",
});

export const SignalKind = Object.freeze({
  OFFER: "video-offer",
  ANSWER: "video-answer",
  ICE_CANDIDATE: "ice-candidate",
  STOP: "video-stop",
});

// Mood room voice signals (moodrooms/voice.py): perfect negotiation's two messages.
export const VoiceSignalKind = Object.freeze({
  DESCRIPTION: "description",
  CANDIDATE: "candidate",
});

export const Close = Object.freeze({
  NORMAL: 1000, // the chat ended by this visitor's own leave (or their other tab's)
  FORBIDDEN: 4003, // no session, not a member, or banned
  NOT_FOUND: 4004, // no such open room, session or thread
  RATE_LIMITED: 4008,
  FRAME_TOO_LARGE: 4009,
  SERVER_RESTARTING: 4012, // the process is stopping (a deploy): come back, to any process
});

// Closes after which reconnecting cannot help: the socket is closed for good.
export const FINAL_CLOSE_CODES = new Set([Close.NORMAL, Close.FORBIDDEN, Close.NOT_FOUND]);

// The `code` of an `error` frame or of an HTTP `{"error": {...}}` body.
export const ErrorCode = Object.freeze({
  INVALID: "invalid",
  INVALID_JSON: "invalid_json",
  INVALID_FRAME: "invalid_frame",
  UNKNOWN_TYPE: "unknown_type",
  FRAME_TOO_LARGE: "frame_too_large",
  RATE_LIMITED: "rate_limited",
  NO_SESSION: "no_session",
  CSRF_FAILED: "csrf_failed",
  NOT_PARTICIPANT: "not_participant",
  BANNED: "banned",
  ROOM_NOT_FOUND: "room_not_found",
  ROOM_CLOSED: "room_closed",
  ROOM_FULL: "room_full",
  ALREADY_LEFT: "already_left",
  NO_PARTNER: "no_partner",
  PARTNER_NOT_CONNECTED: "partner_not_connected",
  DELIVERY_FAILED: "delivery_failed",
  ALREADY_REPORTED: "already_reported",
  KEEP_EXPIRED: "keep_expired",
  THREAD_NOT_FOUND: "thread_not_found",
  THREAD_ENDED: "thread_ended",
  SERVICE_UNAVAILABLE: "service_unavailable",
  MUTED: "muted",
  NOT_IN_VOICE: "not_in_voice",
  NETWORK: "network", // client-side only: the request never reached the server
});

// Errors the server sends just before it closes the socket: the close code says the rest.
export const CLOSING_ERRORS = new Set([
  ErrorCode.NO_SESSION,
  ErrorCode.NOT_PARTICIPANT,
  ErrorCode.ROOM_NOT_FOUND,
  ErrorCode.ALREADY_LEFT,
]);
