// The report page (/report/?room=...): its entry point.

import { lastPairedRoom } from "./prefs.js";
import { setUpReportForm } from "./report-form.js";

const form = document.querySelector(".page-report [data-report-form]");
const roomId = form.elements.room_id.value || lastPairedRoom();
form.elements.room_id.value = roomId || "";
document.getElementById("report-no-room").hidden = Boolean(roomId);
form.hidden = !roomId;
setUpReportForm(form, {
  getSubject: () => (form.elements.room_id.value ? { room_id: form.elements.room_id.value } : null),
});
