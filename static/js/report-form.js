// The report form's behaviour, shared by the report page and the chat's dialog. Importing it
// sets nothing up: the pages call setUpReportForm.

import { post } from "./api.js";

// getSubject() -> who the report is about, as the request's fields ({room_id}, or {session_id,
// reported_user_id} in a mood room), or null when there is nobody yet; onSent() after the server took it.
export function setUpReportForm(form, { getSubject, onSent = () => {} }) {
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
    const subject = getSubject();
    const reason = form.elements.reason.value;
    if (!subject) {
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
      await post("/api/report", { ...subject, reason, details: details.value.trim() });
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
