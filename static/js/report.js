// The report form: on its own page (/report/?room=...) and in the chat's dialog.

import { post } from "./api.js";
import { lastPairedRoom } from "./prefs.js";

// getRoomId() -> the room the report is about; onSent() after the server took it.
export function setUpReportForm(form, { getRoomId, onSent = () => {} }) {
  const errorBox = form.querySelector("[data-report-error]");
  const successBox = form.querySelector("[data-report-success]");
  const details = form.elements.details;
  const counter = form.querySelector("[data-details-count]");
  const submit = form.querySelector('button[type="submit"]');

  const show = (box, text) => {
    box.textContent = text;
    box.hidden = !text;
  };
  details.addEventListener("input", () => {
    counter.textContent = String(details.value.length);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(errorBox, "");
    show(successBox, "");
    const roomId = getRoomId();
    const reason = form.elements.reason.value;
    if (!roomId) {
      show(errorBox, "There is no chat to report yet.");
      return;
    }
    if (!reason) {
      show(errorBox, "Please choose what happened.");
      form.querySelector('input[name="reason"]').focus();
      return;
    }
    submit.disabled = true;
    try {
      await post("/api/report", { room_id: roomId, reason, details: details.value.trim() });
      form.reset();
      counter.textContent = "0";
      show(successBox, "Thank you. Your report was sent to the moderators.");
      onSent();
    } catch (error) {
      show(errorBox, error.detail);
    } finally {
      submit.disabled = false;
    }
  });
}

function setUpReportPage() {
  const form = document.querySelector(".page-report [data-report-form]");
  if (!form) return;
  const roomId = form.elements.room_id.value || lastPairedRoom();
  form.elements.room_id.value = roomId || "";
  document.getElementById("report-no-room").hidden = Boolean(roomId);
  form.hidden = !roomId;
  setUpReportForm(form, { getRoomId: () => form.elements.room_id.value });
}

setUpReportPage();
