// Short notices in a corner; errors are announced to screen readers at once.

const DEFAULT_TIMEOUT_MS = 7000;

export function toast(message, { kind = "error", timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const region = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("p");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  const dismiss = () => item.remove();
  close.addEventListener("click", dismiss);
  item.append(text, close);
  region.append(item);
  if (timeoutMs) setTimeout(dismiss, timeoutMs);
  return item;
}
