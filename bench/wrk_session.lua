-- wrk script for Kelisim's GET scenarios, logged in or not.
--   wrk -t2 -c16 -d10s -s bench/wrk_session.lua http://127.0.0.1:PORT -- COOKIES NTHREADS PATH [PATH...]
-- COOKIES: a file with one "session=..." cookie per line (one learner per line), or "-" for none.
-- Thread k of NTHREADS takes lines k, k+NTHREADS, ... and rotates through them request by
-- request (wrk gives no per-connection hook; with as many learners as connections, concurrent
-- requests of a thread belong to different learners), and through the PATHs.
-- done() prints one line "BENCH_JSON {...}" that bench/run.py parses (latencies in microseconds).

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local requests = {}
local index = 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local cookies = {}
  if file ~= "-" then
    local n = 0
    for line in io.lines(file) do
      if #line > 0 then
        if n % nthreads == id then cookies[#cookies + 1] = line end
        n = n + 1
      end
    end
  end
  if #cookies == 0 then cookies[1] = false end
  for i = 3, #args do
    for _, cookie in ipairs(cookies) do
      local headers = { ["User-Agent"] = "kelisim-bench/1" }
      if cookie then headers["Cookie"] = cookie end
      requests[#requests + 1] = wrk.format("GET", args[i], headers)
    end
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
