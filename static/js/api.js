// JSON API client: same-origin fetch with the CSRF header, and one error shape.

import { ErrorCode } from "./protocol.js";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function headersFor(method) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  return headers;
}

export async function request(method, path, body) {
  const headers = headersFor(method);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, ErrorCode.NETWORK, "Could not reach Whimsy. Check your connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // An empty or non-JSON body: the status below says what happened.
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(
      response.status,
      (error && error.code) || `http_${response.status}`,
      (error && error.detail) || `Something went wrong (HTTP ${response.status}). Please try again.`,
    );
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);

// A POST that outlives the page: fetch's keepalive, which sendBeacon is built on, but unlike
// a beacon it carries the CSRF header, so the server checks it like any other call. Nobody
// is left to read the answer.
export function postOnUnload(path, body) {
  fetch(path, {
    method: "POST",
    keepalive: true,
    credentials: "same-origin",
    headers: headersFor("POST"),
    body: JSON.stringify(body),
  }).catch(() => {});
}
