// Group voice in a mood room: an audio-only WebRTC mesh, one RTCPeerConnection per pair of
// members in voice; the server only relays our signal frames (moodrooms/voice.py, docs/voice.md).
//
// Who offers: the lower user id creates the connection and offers; the higher one answers.
// Later negotiations (an ICE restart after a blip, from either side) follow W3C "perfect
// negotiation": the higher id is polite (rolls back its own offer on a collision), the lower
// one ignores a colliding offer, so simultaneous joins and restarts never deadlock.
// Consent: the server relays a signal only between two members who both joined voice, so no
// ICE candidate (an address) reaches anyone who has not joined.
//
// Sending: each Opus sender is capped (RTCRtpSender.setParameters) and DTX is asked for in
// the SDP we send (usedtx=1: the other side's sender stops sending during silence). Muting
// disables the microphone track and detaches it from every sender: nothing is sent at all.
//
// Speaking rings: our own level is measured with a Web Audio analyser and sent as
// voice_status at most 4 times a second (the server refuses it while muted). For members we
// are connected to, the ring follows the level of the audio this page decodes from them
// (getStats inbound-rtp audioLevel), not their claim nor getSynchronizationSources(), whose
// level in Chromium is the RFC 6464 value the sender writes in each packet: a modified page
// could claim to speak, or to be silent, but not change what we hear.

import { get } from "./api.js";
import { ErrorCode, Frame, VoiceSignalKind } from "./protocol.js";

const MAX_BITRATE_BPS = 32000;
const SPEAKING_SEND_INTERVAL_MS = 250; // at most 4 voice_status frames a second
const LEVEL_SAMPLE_MS = 100;
const SPEAKING_ON = 0.03; // RMS of the smoothed microphone level (0..1)
const SPEAKING_OFF = 0.015; // lower, so a word's tail does not flicker the ring
const LEVEL_SMOOTHING = 0.6; // weight of the previous level
const HEARD_LEVEL = 0.02; // decoded audioLevel (0..1) from which a member counts as heard
const HEARD_POLL_MS = 250;
// ICE that has not connected by then will not (relay-only without a usable TURN server never
// reports "failed" in Chromium).
const CONNECT_TIMEOUT_MS = 15000;
// After a resume, the members still in voice say so at once; a connection to anyone who has
// not by then is to someone who left voice while we were away.
const RESYNC_MS = 5000;

const MIC_ERRORS = {
  NotAllowedError: "Microphone access was denied. Allow it in your browser's site settings to join voice; text chat goes on.",
  SecurityError: "Microphone access was denied. Allow it in your browser's site settings to join voice; text chat goes on.",
  NotFoundError: "No microphone was found, so you cannot join voice. Text chat goes on.",
  NotReadableError: "Your microphone is busy in another app. Close it and try again; text chat goes on.",
  NotSupportedError: "This browser cannot use a microphone here (voice needs https). Text chat goes on.",
};

export class VoiceMesh {
  // send(frame) -> bool; nameOf(userId) -> display name; notify(text, {kind}?)
  constructor({ send, nameOf, notify }) {
    Object.assign(this, { send, nameOf, notify });
    this.me = null;
    this.inVoice = false;
    this.joining = false;
    this.muted = false;
    this.stream = null;
    this.track = null;
    this.iceConfig = null;
    this.peers = new Map(); // user_id -> Peer
    this.voices = new Map(); // user_id -> {in_voice, is_muted, is_speaking} as the server says
    this.heard = new Set(); // members whose decoded audio is above HEARD_LEVEL right now
    this.speaking = false;
    this.sentSpeaking = false;
    this.lastSpeakingSent = 0;
    this.audio = null;
    this.timers = [];
  }

  // --- the panel ------------------------------------------------------------------------

  mount(parent) {
    const section = document.createElement("section");
    section.className = "voice-panel";
    section.setAttribute("aria-label", "Voice");
    this.joinButton = button("Join voice", "button primary small", () => (this.inVoice ? this.leave() : this.join()));
    this.muteButton = button("Mute", "button small", () => this.toggleMute());
    this.muteButton.setAttribute("aria-pressed", "false");
    this.muteButton.setAttribute("aria-keyshortcuts", "M");
    this.muteButton.title = "Mute or unmute (M)";
    this.muteButton.hidden = true;
    this.statusLine = document.createElement("p");
    this.statusLine.className = "voice-status";
    this.statusLine.setAttribute("role", "status");
    this.players = document.createElement("div");
    this.players.hidden = true;
    section.append(this.joinButton, this.muteButton, this.statusLine, this.players);
    parent.prepend(section);
    document.addEventListener("keydown", (event) => {
      if (event.key.toLowerCase() !== "m" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
      if (!this.inVoice) return;
      event.preventDefault();
      this.toggleMute();
    });
  }

  render() {
    this.joinButton.textContent = this.inVoice ? "Leave voice" : "Join voice";
    this.joinButton.className = this.inVoice ? "button small" : "button primary small";
    this.joinButton.disabled = this.joining;
    this.muteButton.hidden = !this.inVoice;
    this.muteButton.textContent = this.muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(this.muted));
    if (!this.inVoice) this.statusLine.textContent = "";
    else {
      const connected = [...this.peers.values()].filter((peer) => peer.pc.connectionState === "connected").length;
      const others = [...this.voices.entries()].filter(([id, voice]) => id !== this.me && voice.in_voice).length;
      this.statusLine.textContent = others ? `In voice · connected to ${connected} of ${others}` : "In voice · nobody else yet";
    }
    for (const item of document.querySelectorAll(".member[data-user-id]")) this.decorate(item, item.dataset.userId);
  }

  // A member's list item: ringed while speaking, crossed while muted.
  decorate(item, userId) {
    const voice = this.voices.get(userId);
    const inVoice = Boolean(voice && voice.in_voice);
    const muted = Boolean(voice && voice.is_muted);
    const peer = this.peers.get(userId);
    let speaking;
    if (userId === this.me) speaking = this.inVoice && !this.muted && this.speaking;
    else if (peer && peer.pc.connectionState === "connected") speaking = !muted && this.heard.has(userId);
    else speaking = Boolean(voice && voice.is_speaking && !muted);
    item.classList.toggle("in-voice", inVoice);
    item.classList.toggle("speaking", inVoice && speaking);
    item.classList.toggle("muted", muted);
    item.classList.toggle("voice-failed", Boolean(peer && peer.failed));
    // In words too (screen readers, and colour is not enough): after the member's details.
    const words = [
      inVoice ? "in voice" : "",
      muted ? "muted" : "",
      inVoice && speaking ? "speaking" : "",
      peer && peer.failed ? "voice could not connect" : "",
    ];
    const text = words.filter(Boolean).join(", ");
    let line = item.querySelector(".member-voice");
    if (!line) {
      line = document.createElement("span");
      line.className = "member-voice";
      (item.querySelector(".member-mood") || item).append(line);
    }
    line.textContent = "";
    const besides = line.parentElement.textContent.trim(); // the page's own details (mood, reconnecting)
    line.textContent = besides && text && line.parentElement !== item ? ` · ${text}` : text;
  }

  // --- frames from the room socket --------------------------------------------------------

  roomJoined(frame) {
    this.me = frame.you.user_id;
    this.muted = Boolean(frame.you.is_muted);
    // Who is in voice is told right after this frame (voice_status from each member in voice):
    // until then nobody is, as far as this (possibly resumed) socket knows.
    this.voices = new Map(
      frame.participants.map((member) => [member.user_id, { in_voice: false, is_muted: member.is_muted, is_speaking: false }]),
    );
    if (this.inVoice) {
      // A resumed socket: join again, and restart ICE with each member once we hear they are still in.
      this.applyMute();
      for (const [userId, peer] of this.peers) {
        if (this.voices.has(userId)) peer.restartPending = true;
        else this.closePeer(userId); // left the room while we were away
      }
      this.send({ type: Frame.VOICE_JOIN, is_muted: this.muted });
      clearTimeout(this.resyncTimer);
      this.resyncTimer = setTimeout(() => {
        for (const userId of [...this.peers.keys()]) {
          const voice = this.voices.get(userId);
          if (!voice || !voice.in_voice) this.closePeer(userId); // left voice while we were away
        }
        this.render();
      }, RESYNC_MS);
    }
    this.render();
  }

  onStatus(frame) {
    this.voices.set(frame.user_id, {
      in_voice: frame.in_voice,
      is_muted: frame.is_muted,
      is_speaking: frame.is_speaking,
    });
    if (frame.user_id === this.me) {
      this.muted = frame.is_muted; // the stored mute, also when set from another tab
      if (this.track) this.applyMute();
    } else if (!frame.in_voice) {
      this.closePeer(frame.user_id);
    } else if (this.inVoice) {
      const peer = this.peers.get(frame.user_id);
      if (!peer) this.maybeConnect(frame.user_id);
      else if (peer.restartPending) peer.restart();
    }
    this.render();
  }

  onSignal(frame) {
    if (!this.inVoice || frame.from === this.me || !frame.payload) return;
    let peer = this.peers.get(frame.from);
    const description = frame.kind === VoiceSignalKind.DESCRIPTION ? frame.payload.description : null;
    if (peer && description && peer.isFromAnotherConnection(description)) {
      this.closePeer(frame.from); // their page was reloaded: a new connection replaces ours
      peer = null;
    }
    if (!peer) {
      if (!description) return; // for a connection we closed
      peer = this.createPeer(frame.from);
    }
    peer.receive(frame.kind, frame.payload);
  }

  // Their socket dropped: once they are back in voice, ICE restarts (whoever gets there first).
  memberReconnecting(userId) {
    const peer = this.peers.get(userId);
    if (peer) peer.restartPending = true;
  }

  memberLeft(userId) {
    this.voices.delete(userId);
    this.closePeer(userId);
    this.render();
  }

  // true if the error frame was about voice and needs no words on the page.
  onError(frame) {
    if (frame.code === ErrorCode.MUTED) {
      this.speaking = this.sentSpeaking = false; // the server has us muted: so do we
      return true;
    }
    // A signal to someone who left voice or dropped meanwhile: their voice_status or
    // user_left closes that connection.
    return frame.code === ErrorCode.NOT_IN_VOICE || typeof frame.to === "string";
  }

  // --- joining and leaving --------------------------------------------------------------

  async join() {
    if (this.inVoice || this.joining) return;
    this.joining = true;
    this.render();
    try {
      this.stream = await openMicrophone();
    } catch (error) {
      this.joining = false;
      this.render();
      this.notify(MIC_ERRORS[error.name] || `Could not start your microphone (${error.message || error.name}). Text chat goes on.`);
      return;
    }
    this.track = this.stream.getAudioTracks()[0];
    await this.loadIceConfig();
    this.startLevelMeter();
    this.joining = false;
    if (!this.send({ type: Frame.VOICE_JOIN, is_muted: this.muted })) {
      this.stopMicrophone();
      this.render();
      this.notify("Not connected right now, so you cannot join voice. Try again in a moment.");
      return;
    }
    this.inVoice = true;
    this.applyMute();
    for (const [userId, voice] of this.voices) if (userId !== this.me && voice.in_voice) this.maybeConnect(userId);
    this.render();
  }

  leave() {
    if (!this.inVoice) return;
    this.send({ type: Frame.VOICE_LEAVE });
    this.end();
  }

  // Out of voice without a word (the room is over for us).
  end() {
    this.inVoice = false;
    this.iceConfig = null; // TURN credentials expire: a later join fetches fresh ones
    clearTimeout(this.resyncTimer);
    for (const userId of [...this.peers.keys()]) this.closePeer(userId);
    this.stopMicrophone();
    this.heard.clear();
    this.render();
  }

  toggleMute() {
    if (!this.inVoice) return;
    this.muted = !this.muted;
    this.applyMute();
    this.send({ type: Frame.VOICE_STATUS, is_muted: this.muted });
    this.render();
  }

  applyMute() {
    if (!this.track) return;
    this.track.enabled = !this.muted;
    for (const peer of this.peers.values()) peer.attachTrack();
    if (this.muted) this.speaking = this.sentSpeaking = false;
  }

  // --- peers --------------------------------------------------------------------------------

  maybeConnect(userId) {
    if (!this.inVoice || this.peers.has(userId) || !(this.me < userId)) return; // the lower id offers
    this.createPeer(userId).offer();
  }

  createPeer(userId) {
    const peer = new Peer(this, userId);
    this.peers.set(userId, peer);
    return peer;
  }

  closePeer(userId) {
    const peer = this.peers.get(userId);
    if (!peer) return;
    this.peers.delete(userId);
    this.heard.delete(userId);
    peer.close();
  }

  peerFailed(peer) {
    this.notify(`Voice could not connect to ${this.nameOf(peer.userId)}: a network or firewall is in the way. The others still hear you.`);
    this.render();
  }

  async loadIceConfig() {
    if (this.iceConfig) return this.iceConfig;
    try {
      const data = await get("/api/chat/ice-servers");
      this.iceConfig = { iceServers: data.ice_servers, iceTransportPolicy: data.ice_transport_policy };
      const hasTurn = data.ice_servers.some((server) => server.urls.some((url) => url.startsWith("turn")));
      if (data.ice_transport_policy === "relay" && !hasTurn) {
        this.notify("No voice relay (TURN) server is set up, so voice cannot connect from here. Text chat goes on.");
      }
    } catch (error) {
      this.notify(`Could not load the voice relay settings (${error.detail}); trying a direct connection.`);
      this.iceConfig = { iceServers: [] };
    }
    return this.iceConfig;
  }

  // --- our level, and what we hear ---------------------------------------------------------

  startLevelMeter() {
    try {
      this.audio = new AudioContext();
      const analyser = this.audio.createAnalyser();
      analyser.fftSize = 512;
      analyser.smoothingTimeConstant = 0.8;
      this.audio.createMediaStreamSource(this.stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      let level = 0;
      this.timers.push(
        setInterval(() => {
          analyser.getFloatTimeDomainData(samples);
          let sum = 0;
          for (const sample of samples) sum += sample * sample;
          level = LEVEL_SMOOTHING * level + (1 - LEVEL_SMOOTHING) * Math.sqrt(sum / samples.length);
          const speaking = !this.muted && (this.speaking ? level > SPEAKING_OFF : level > SPEAKING_ON);
          if (speaking !== this.speaking) {
            this.speaking = speaking;
            this.render();
          }
          this.maybeSendSpeaking();
        }, LEVEL_SAMPLE_MS),
      );
    } catch {
      // No Web Audio: no ring of our own; the call itself works.
    }
    this.timers.push(setInterval(() => this.pollHeard(), HEARD_POLL_MS));
  }

  maybeSendSpeaking() {
    if (!this.inVoice || this.muted || this.speaking === this.sentSpeaking) return;
    const now = performance.now();
    if (now - this.lastSpeakingSent < SPEAKING_SEND_INTERVAL_MS) return; // the next sample sends it
    this.lastSpeakingSent = now;
    if (this.send({ type: Frame.VOICE_STATUS, is_speaking: this.speaking })) this.sentSpeaking = this.speaking;
  }

  async pollHeard() {
    let changed = false;
    for (const peer of this.peers.values()) {
      const heard = (await peer.heardLevel()) > HEARD_LEVEL;
      if (heard !== this.heard.has(peer.userId)) {
        changed = true;
        if (heard) this.heard.add(peer.userId);
        else this.heard.delete(peer.userId);
      }
    }
    if (changed) this.render();
  }

  stopMicrophone() {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.audio) this.audio.close().catch(() => {});
    this.audio = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = this.track = null;
    this.speaking = this.sentSpeaking = false;
  }

  addPlayer(userId, stream) {
    let player = this.players.querySelector(`audio[data-user-id="${CSS.escape(userId)}"]`);
    if (!player) {
      player = document.createElement("audio");
      player.autoplay = true;
      player.dataset.userId = userId;
      this.players.append(player);
    }
    player.srcObject = stream;
    player.play().catch(() => {}); // autoplay: Join voice was a click, so it is allowed
  }

  removePlayer(userId) {
    const player = this.players.querySelector(`audio[data-user-id="${CSS.escape(userId)}"]`);
    if (player) {
      player.srcObject = null;
      player.remove();
    }
  }
}

// One member of the mesh: its connection, perfect negotiation, and the sender's limits.
class Peer {
  constructor(mesh, userId) {
    this.mesh = mesh;
    this.userId = userId;
    this.polite = mesh.me > userId; // the higher id yields on a collision
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.restartPending = false;
    this.failed = false;
    this.sender = null;
    this.queue = Promise.resolve(); // signals applied one at a time, in arrival order
    this.earlyCandidates = []; // candidates that came before any description: added after it
    const pc = new RTCPeerConnection(mesh.iceConfig || {});
    this.pc = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.signal(VoiceSignalKind.CANDIDATE, { candidate: candidate.toJSON() });
    };
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendDescription();
      } catch (error) {
        this.trouble(error);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.ontrack = ({ track, streams }) => {
      mesh.addPlayer(userId, streams[0] || new MediaStream([track]));
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") {
        clearTimeout(this.timer);
        this.failed = false;
        this.limitSender();
      } else if (pc.connectionState === "failed") this.fail();
      mesh.render();
    };
    this.armTimer();
  }

  // A description whose SDP session (o= line) is not the one this connection negotiated with.
  isFromAnotherConnection(description) {
    const remote = this.pc.remoteDescription;
    return Boolean(remote && remote.sdp && description.sdp && sessionOf(remote.sdp) !== sessionOf(description.sdp));
  }

  offer() {
    this.attachTrack(); // fires negotiationneeded: the offer
  }

  // Our microphone on this connection's sender: detached while muted, so nothing is sent.
  attachTrack() {
    const { track, stream, muted } = this.mesh;
    if (!track) return;
    if (!this.sender) {
      this.sender = this.pc.addTrack(track, stream);
      if (muted) this.sender.replaceTrack(null);
      this.limitSender();
      return;
    }
    this.sender.replaceTrack(muted ? null : track).catch(() => {});
  }

  async limitSender() {
    if (!this.sender) return;
    try {
      const parameters = this.sender.getParameters();
      if (!parameters.encodings || !parameters.encodings.length) parameters.encodings = [{}];
      for (const encoding of parameters.encodings) encoding.maxBitrate = MAX_BITRATE_BPS;
      await this.sender.setParameters(parameters);
    } catch {
      // Before negotiation some browsers have no encodings yet: applied again once connected.
    }
  }

  receive(kind, payload) {
    this.queue = this.queue.then(() => this.apply(kind, payload)).catch((error) => this.trouble(error));
  }

  async apply(kind, payload) {
    const pc = this.pc;
    if (kind === VoiceSignalKind.DESCRIPTION && payload.description) {
      const description = payload.description;
      const collision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription(description); // a polite collision rolls ours back
      for (const candidate of this.earlyCandidates.splice(0)) await this.addCandidate(candidate);
      if (description.type === "offer") {
        this.attachTrack(); // the answerer's microphone rides on the offered transceiver
        await pc.setLocalDescription();
        this.sendDescription();
      }
      this.limitSender();
    } else if (kind === VoiceSignalKind.CANDIDATE && payload.candidate) {
      // A candidate can only be added once their description is set: one that comes first
      // (seen in the browser test as "remote description was null") waits for it.
      if (!pc.remoteDescription) this.earlyCandidates.push(payload.candidate);
      else await this.addCandidate(payload.candidate);
    }
  }

  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) throw error;
    }
  }

  sendDescription() {
    const { type, sdp } = this.pc.localDescription;
    this.signal(VoiceSignalKind.DESCRIPTION, { description: { type, sdp: withDtx(sdp) } });
  }

  signal(kind, payload) {
    this.mesh.send({ type: Frame.SIGNAL, to: this.userId, kind, payload });
  }

  // After our socket (or theirs) came back: the network path may have changed.
  restart() {
    this.restartPending = false;
    this.failed = false;
    this.armTimer();
    this.pc.restartIce(); // negotiationneeded: an offer with new ICE credentials
  }

  armTimer() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.pc.connectionState !== "connected") this.fail();
    }, CONNECT_TIMEOUT_MS);
  }

  fail() {
    if (this.failed) return;
    this.failed = true;
    clearTimeout(this.timer);
    this.mesh.peerFailed(this);
  }

  trouble(error) {
    if (this.pc.connectionState !== "closed") console.warn("voice: negotiation with", this.userId, error);
  }

  // The level of the audio we decode from them (0..1), as this browser measures it.
  async heardLevel() {
    if (this.pc.connectionState !== "connected") return 0;
    try {
      const stats = await this.pc.getStats();
      for (const report of stats.values()) {
        if (report.type === "inbound-rtp" && report.kind === "audio") return report.audioLevel || 0;
      }
    } catch {
      // closed meanwhile
    }
    return 0;
  }

  close() {
    clearTimeout(this.timer);
    this.pc.onconnectionstatechange = null;
    this.pc.close();
    this.mesh.removePlayer(this.userId);
  }
}

// Ask the other side's Opus sender for DTX (no packets during silence): usedtx=1 in the fmtp
// of every Opus payload type of the SDP we send.
export function withDtx(sdp) {
  const opus = [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((match) => match[1]);
  let result = sdp;
  for (const payloadType of opus) {
    const fmtp = new RegExp(`^(a=fmtp:${payloadType} [^\\r\\n]*)`, "m");
    result = result.replace(fmtp, (line) => (/usedtx=/.test(line) ? line : `${line};usedtx=1`));
  }
  return result;
}

function sessionOf(sdp) {
  const origin = /^o=\S+ (\d+) /m.exec(sdp);
  return origin ? origin[1] : null;
}

async function openMicrophone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error("no microphone access here");
    error.name = "NotSupportedError";
    throw error;
  }
  return navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
}

function button(text, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}
