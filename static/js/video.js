// A WebRTC video call with the stranger; the server only relays our signal frames.
//
// Consent: turning video on sends an offer (SDP only: with trickle ICE it carries no
// addresses). The other side answers only once they have turned video on too, and
// neither side sends an ICE candidate (which reveals IP addresses) before that
// offer/answer exchange. If both turn video on at the same instant, both offers
// cross; the lower user id keeps its offer and the higher one answers it instead,
// so the outcome is deterministic and there is no glare.

import { get } from "./api.js";
import { SignalKind } from "./protocol.js";

const MEDIA_ERRORS = {
  NotAllowedError: "Camera or microphone access was denied. Allow it in your browser's site settings to use video; text chat goes on.",
  SecurityError: "Camera or microphone access was denied. Allow it in your browser's site settings to use video; text chat goes on.",
  NotFoundError: "No camera or microphone was found. Text chat goes on.",
  OverconstrainedError: "No suitable camera was found. Text chat goes on.",
  NotReadableError: "Your camera or microphone is busy in another app. Close it and try again; text chat goes on.",
};

// ICE that has not connected by then will not: with relay-only and no usable TURN server there
// are no candidate pairs at all, and Chromium never reports "failed".
const CONNECT_TIMEOUT_MS = 15000;

export class VideoCall {
  // elements: {section, local, remote, status, statusText, retryButton, micButton, cameraButton}
  // sendSignal(kind, payload) -> bool; isLowerId() -> bool; onLocalChange(on); notify(message)
  constructor({ elements, sendSignal, isLowerId, onLocalChange, notify }) {
    Object.assign(this, { elements, sendSignal, isLowerId, onLocalChange, notify });
    this.stream = null;
    this.pc = null;
    this.role = null; // "offerer" | "answerer"
    this.pendingOffer = null; // the stranger's offer, kept until we turn video on
    this.consented = false; // both sides on: ICE candidates may flow
    this.localCandidates = [];
    this.remoteCandidates = [];
    this.iceConfig = null;
    this.starting = false;
    this.lastDescription = null; // our latest offer or answer, resent if it found nobody
    this.resendOnConnect = false;
    // Offers, answers and candidates are applied one at a time, in arrival order.
    this.queue = Promise.resolve();
    elements.micButton.addEventListener("click", () => this.toggleTrack("audio", elements.micButton, "Unmute mic", "Mute mic"));
    elements.cameraButton.addEventListener("click", () => this.toggleTrack("video", elements.cameraButton, "Camera on", "Camera off"));
    elements.retryButton.addEventListener("click", () => this.retry());
  }

  get isOn() {
    return this.stream !== null;
  }

  async start() {
    if (this.isOn || this.starting) return;
    this.starting = true;
    try {
      this.stream = await openCamera();
    } catch (error) {
      this.notify(MEDIA_ERRORS[error.name] || `Could not start your camera (${error.message || error.name}). Text chat goes on.`);
      return;
    } finally {
      this.starting = false;
    }
    this.elements.local.srcObject = this.stream;
    this.elements.section.hidden = false;
    this.setStatus("Waiting for the stranger to turn on video…");
    this.onLocalChange(true);
    this.run(() => {
      const offer = this.pendingOffer;
      this.pendingOffer = null;
      return offer ? this.answer(offer) : this.offer();
    });
  }

  run(task) {
    this.queue = this.queue.then(task).catch((error) => {
      if (this.isOn) this.notify(`Video trouble: ${error.message || error.name}. Text chat goes on.`);
    });
    return this.queue;
  }

  // Turn our video off and tell the stranger.
  stop() {
    if (!this.isOn) return;
    this.sendSignal(SignalKind.STOP, {});
    this.end();
  }

  // Tear everything down without a word to the stranger (the room is over).
  end() {
    this.closePeer();
    this.pendingOffer = null;
    this.iceConfig = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.elements.local.srcObject = null;
    this.elements.section.hidden = true;
    for (const button of [this.elements.micButton, this.elements.cameraButton]) {
      button.setAttribute("aria-pressed", "false");
    }
    this.elements.micButton.textContent = "Mute mic";
    this.elements.cameraButton.textContent = "Camera off";
    this.onLocalChange(false);
  }

  handleSignal(kind, payload) {
    if (payload && typeof payload === "object") this.run(() => this.applySignal(kind, payload));
  }

  async applySignal(kind, payload) {
    if (kind === SignalKind.OFFER && typeof payload.sdp === "string") {
      if (payload.restart) {
        // An ICE restart of the call we have; without that call (this page was reloaded)
        // there is nothing to restart, and our own fresh offer starts a new one.
        if (this.pc && this.consented && this.role === "answerer") await this.answerRestart(payload.sdp);
        return;
      }
      if (!this.isOn) {
        this.pendingOffer = payload.sdp;
        this.notify("The stranger has video on. Press Start video to see each other.", "info");
        return;
      }
      if (this.role === "offerer" && !this.consented && this.isLowerId()) return; // our offer wins
      await this.answer(payload.sdp);
    } else if (kind === SignalKind.ANSWER && typeof payload.sdp === "string") {
      if (this.role !== "offerer" || !this.pc || this.pc.signalingState !== "have-local-offer") return;
      await this.pc.setRemoteDescription({ type: "answer", sdp: payload.sdp });
      this.grantConsent();
    } else if (kind === SignalKind.ICE_CANDIDATE && typeof payload.candidate === "string") {
      if (this.pc && this.pc.remoteDescription) await this.addRemoteCandidate(payload);
      else this.remoteCandidates.push(payload);
    } else if (kind === SignalKind.STOP) {
      this.pendingOffer = null;
      if (this.pc) {
        this.closePeer();
        this.notify("The stranger turned off video.", "info");
      }
      if (this.isOn) await this.offer(); // be ready for when they turn it on again
    }
  }

  // The server had no socket of the stranger's to give our offer or answer to.
  undelivered(kind) {
    if (kind === SignalKind.OFFER || kind === SignalKind.ANSWER) this.resendOnConnect = true;
  }

  partnerConnected() {
    if (!this.resendOnConnect || !this.lastDescription || !this.isOn) return;
    this.resendOnConnect = false;
    this.sendSignal(this.lastDescription.kind, this.lastDescription.payload);
  }

  sendDescription(kind, { type, sdp }, extra = {}) {
    this.lastDescription = { kind, payload: { type, sdp, ...extra } };
    this.sendSignal(kind, this.lastDescription.payload);
  }

  // After either side's socket came back from a blip the network path may have changed: the
  // caller restarts ICE on the call both still have, and nobody has to press anything.
  restartAfterResume() {
    if (!this.pc || this.role !== "offerer") return;
    if (!this.consented) {
      // Our offer may have been lost with the socket: send it again.
      if (this.lastDescription) this.sendSignal(this.lastDescription.kind, this.lastDescription.payload);
      return;
    }
    this.run(async () => {
      const pc = this.pc;
      if (!pc || pc.signalingState !== "stable") return;
      pc.restartIce();
      await pc.setLocalDescription(await pc.createOffer());
      this.sendDescription(SignalKind.OFFER, pc.localDescription, { restart: true });
    });
  }

  async answerRestart(sdp) {
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sendDescription(SignalKind.ANSWER, this.pc.localDescription);
  }

  // After an ICE failure: fresh relay (TURN) credentials and a new offer.
  retry() {
    if (!this.isOn) return;
    this.iceConfig = null;
    this.setStatus("Connecting video…");
    this.run(() => this.offer());
  }

  async offer() {
    const pc = await this.newPeer("offerer");
    if (!pc) return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.sendDescription(SignalKind.OFFER, pc.localDescription);
  }

  async answer(sdp) {
    const pc = await this.newPeer("answerer");
    if (!pc) return;
    await pc.setRemoteDescription({ type: "offer", sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.sendDescription(SignalKind.ANSWER, pc.localDescription);
    this.grantConsent();
  }

  grantConsent() {
    this.consented = true;
    const pc = this.pc;
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (pc === this.pc && pc.connectionState !== "connected") this.failed();
    }, CONNECT_TIMEOUT_MS);
    for (const candidate of this.localCandidates) this.sendSignal(SignalKind.ICE_CANDIDATE, candidate);
    this.localCandidates = [];
    const queued = this.remoteCandidates;
    this.remoteCandidates = [];
    for (const candidate of queued) this.addRemoteCandidate(candidate);
  }

  async addRemoteCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch {
      // A candidate for a transport we did not negotiate; ICE uses the others.
    }
  }

  async newPeer(role) {
    this.closePeer();
    this.role = role;
    const config = await this.loadIceConfig();
    if (!this.stream) return null; // video was turned off meanwhile
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || pc !== this.pc) return;
      if (this.consented) this.sendSignal(SignalKind.ICE_CANDIDATE, candidate.toJSON());
      else this.localCandidates.push(candidate.toJSON());
    };
    pc.ontrack = ({ streams }) => {
      if (pc === this.pc && streams[0]) this.elements.remote.srcObject = streams[0];
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      this.elements.section.dataset.connection = pc.connectionState;
      if (pc.connectionState === "connected") this.setStatus("");
      if (pc.connectionState === "failed") this.failed();
    };
    return pc;
  }

  failed() {
    this.notify("The video could not connect: a network or firewall is in the way. Text chat goes on.");
    this.closePeer();
    this.setStatus("The video could not connect.", { retry: true });
  }

  async loadIceConfig() {
    if (!this.iceConfig) {
      try {
        const data = await get("/api/chat/ice-servers");
        this.iceConfig = { iceServers: data.ice_servers, iceTransportPolicy: data.ice_transport_policy };
      } catch (error) {
        this.notify(`Could not load the video relay settings (${error.detail}); trying a direct connection.`);
        this.iceConfig = { iceServers: [] };
      }
    }
    return this.iceConfig;
  }

  closePeer() {
    clearTimeout(this.connectTimer);
    if (this.pc) this.pc.close();
    this.pc = null;
    this.role = null;
    this.lastDescription = null;
    this.resendOnConnect = false;
    this.consented = false;
    this.localCandidates = [];
    this.remoteCandidates = [];
    this.elements.remote.srcObject = null;
    delete this.elements.section.dataset.connection;
    if (this.isOn) this.setStatus("Waiting for the stranger to turn on video…");
  }

  setStatus(text, { retry = false } = {}) {
    this.elements.statusText.textContent = text;
    this.elements.status.hidden = !text;
    this.elements.retryButton.hidden = !retry;
  }

  toggleTrack(kind, button, offLabel, onLabel) {
    if (!this.stream) return;
    const tracks = kind === "audio" ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    if (!tracks.length) return;
    const muted = tracks[0].enabled;
    for (const track of tracks) track.enabled = !muted;
    button.setAttribute("aria-pressed", String(muted));
    button.textContent = muted ? offLabel : onLabel;
  }
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error("this browser cannot use a camera here (video needs https)");
    error.name = "NotSupportedError";
    throw error;
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  } catch (error) {
    // No microphone (or none allowed) should not stop the picture.
    if (error.name !== "NotFoundError") throw error;
    return navigator.mediaDevices.getUserMedia({ video: true });
  }
}
