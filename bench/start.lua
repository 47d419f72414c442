-- wrk script of `python -m bench start`: every request is POST /api/chat/start by a visitor
-- who has no open room, with a real signed session cookie and the CSRF cookie and header.
-- Each wrk thread drives one connection and takes every Nth line of the sessions file,
-- so no two connections share a visitor and no visitor starts twice in a run (an
-- idempotent Start that returns the open room would measure nothing); `reused` counts it if
-- the file runs out. Without WHIMSY_BENCH_SESSIONS it sends wrk's plain GET (static files).
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  reused, failed = 0, 0
  local path = os.getenv("WHIMSY_BENCH_SESSIONS")
  if path == nil then
    return
  end
  local stride = tonumber(os.getenv("WHIMSY_BENCH_THREADS"))
  local csrf = os.getenv("WHIMSY_BENCH_CSRF")
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-CSRFToken"] = csrf,
    ["Origin"] = os.getenv("WHIMSY_BENCH_ORIGIN"),
  }
  requests_ = {}
  local n = 0
  for session in io.lines(path) do
    if n % stride == index then
      headers["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf
      table.insert(requests_, wrk.format("POST", nil, headers, "{}"))
    end
    n = n + 1
  end
  next_ = 0
end

function request()
  if requests_ == nil then
    return wrk.request()
  end
  if next_ >= #requests_ then
    reused = reused + 1
  end
  next_ = next_ + 1
  return requests_[(next_ - 1) % #requests_ + 1]
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local reused_total, failed_total = 0, 0
  for _, thread in ipairs(threads) do
    reused_total = reused_total + thread:get("reused")
    failed_total = failed_total + thread:get("failed")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "non_200": %d, "reused": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, failed_total, reused_total))
end
