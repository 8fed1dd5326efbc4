-- wrk script for Kelisim's quiz-submission scenario: every request is a different, pre-started
-- attempt, sent once (a replayed attempt is a cheap no-op that grades nothing).
--   wrk -t2 -c16 -d10s -s bench/wrk_submit.lua http://127.0.0.1:PORT -- SUBMISSIONS NTHREADS
-- SUBMISSIONS: a file with one request per line, "PATH<TAB>COOKIE<TAB>BODY" (BODY: the urlencoded
-- form; written by bench/run.py). Thread k of NTHREADS takes lines k, k+NTHREADS, ... and POSTs
-- each once, formatted in init() (Cookie, User-Agent kelisim-bench/1, form Content-Type).
-- A submission answers 303; response() counts the 303s ("ok") and any other status
-- ("unexpected", wrk itself only counts statuses > 399 as errors).
-- When a thread has handed out all its lines, delay() parks its connections (no request is
-- sent again) and, once the last answer is in, the thread stops (wrk.thread:stop()); wrk still
-- reports the whole -d duration, so bench/run.py notes a run whose supply ran out ("sent" equals
-- "supply").
-- done() prints one line "BENCH_JSON {...}" that bench/run.py parses: the keys of
-- bench/wrk_session.lua (latencies in microseconds) plus the counters of all threads.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

-- Per-thread state. Globals, so that done() can read them with thread:get().
supply = 0        -- requests this thread holds
sent = 0          -- requests handed out by request()
ok = 0            -- 303 answers
unexpected = 0    -- any other status
first_unexpected = 0
answered = 0

local requests = {}
local fallback  -- a harmless request, see request()
local promised = 0  -- delay() calls that promised the next request() a line
local PARK_MS = 24 * 3600 * 1000

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local n = 0
  for line in io.lines(file) do
    if #line > 0 then
      if n % nthreads == id then
        local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
        if not path then error("bad line " .. (n + 1) .. " in " .. file) end
        requests[#requests + 1] = wrk.format("POST", path, {
          ["Cookie"] = cookie,
          ["User-Agent"] = "kelisim-bench/1",
          ["Content-Type"] = "application/x-www-form-urlencoded",
        }, body)
      end
      n = n + 1
    end
  end
  supply = #requests
  fallback = wrk.format("GET", "/healthz", { ["User-Agent"] = "kelisim-bench/1" })
end

-- Called before every request() of a connection (after its previous answer): 0 while lines
-- remain (each call reserves one), else park the connection for good.
function delay()
  if sent + promised < supply then
    promised = promised + 1
    return 0
  end
  return PARK_MS
end

function request()
  if promised > 0 then promised = promised - 1 end
  if sent < supply then
    sent = sent + 1
    return requests[sent]
  end
  -- Only after a socket error (wrk resends without asking delay()): nothing is left to send.
  wrk.thread:stop()
  return fallback
end

function response(status, headers, body)
  answered = answered + 1
  if status == 303 then
    ok = ok + 1
  else
    unexpected = unexpected + 1
    if first_unexpected == 0 then first_unexpected = status end
  end
  if sent >= supply and answered >= sent then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local totals = { supply = 0, sent = 0, ok = 0, unexpected = 0, first_unexpected = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      local value = thread:get(key) or 0
      if key == "first_unexpected" then
        if totals[key] == 0 then totals[key] = value end
      else
        totals[key] = totals[key] + value
      end
    end
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"supply": %d, "sent": %d, "ok": %d, "unexpected": %d, "first_unexpected": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, totals.supply, totals.sent, totals.ok, totals.unexpected,
    totals.first_unexpected))
end
