-- wrk's side of bench/http.py: what each request is, and one JSON line of results at the end.
--
--   wrk ... -s bench/http.lua URL -- fixed METHOD [BODY]
--       every request the same (headers come from wrk's -H options)
--   wrk ... -s bench/http.lua URL -- keyed METHOD BODY NONCE
--       every request the same body, each with an Idempotency-Key of its own (NONCE-thread-k):
--       creates whose uniqueness is the key alone (a consulting case, a finance draft)
--   wrk ... -s bench/http.lua URL -- create FIRST THREADS BASE DAYS FIRST_HOUR HOURS NONCE SPACE...
--       a reservation body on a slot no other request of the run takes: request k of thread t
--       takes slot FIRST + t + THREADS * k; slots run over the spaces first, then the HOURS
--       one-hour starts from FIRST_HOUR (park time), then DAYS days from BASE (the Unix time of
--       the first day's park midnight). Each carries its own Idempotency-Key (NONCE-slot).
--
-- done() prints one line "BENCH {json}": requests, duration, latency percentiles in µs, socket
-- errors, the slots the run went through (the next run's FIRST is FIRST + slots_sent), and the
-- count of every HTTP status seen (a benchmark of errors is worthless, so
-- bench/http.py checks them).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local mode
local fixed
local first, nthreads, base, days, first_hour, hours, nonce
local keyed_format
local spaces = {}
count = 0 -- requests this thread made (read by done(): the next run's FIRST goes past them all)
statuses = {}

function init(args)
   mode = args[1]
   if mode == "fixed" then
      wrk.method = args[2]
      wrk.body = args[3]
      fixed = wrk.format()
   elseif mode == "keyed" then
      wrk.method = args[2]
      wrk.body = args[3]
      nonce = args[4]
      keyed_format = true
   elseif mode == "create" then
      first, nthreads, base = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
      days, first_hour, hours, nonce = tonumber(args[5]), tonumber(args[6]), tonumber(args[7]), args[8]
      for i = 9, #args do
         table.insert(spaces, args[i])
      end
   else
      error("bench/http.lua: unknown mode " .. tostring(mode))
   end
end

local function park_time(unix)
   -- The park keeps +08:00 all year (no daylight saving).
   return os.date("!%Y-%m-%dT%H:%M:%S+08:00", unix + 8 * 3600)
end

function request()
   if fixed then
      return fixed
   end
   if keyed_format then
      count = count + 1
      local headers = {}
      for name, value in pairs(wrk.headers) do
         headers[name] = value
      end
      headers["Idempotency-Key"] = nonce .. "-" .. id .. "-" .. count
      return wrk.format(nil, nil, headers, nil)
   end
   local slot = first + id + nthreads * count
   count = count + 1
   local space = spaces[(slot % #spaces) + 1]
   local rest = math.floor(slot / #spaces)
   local hour = first_hour + (rest % hours)
   local day = math.floor(rest / hours) -- past DAYS the slot is off the horizon: a 422, counted
   local start = base + day * 86400 + hour * 3600
   local body = string.format(
      '{"space_id": "%s", "start": "%s", "end": "%s", "title": "Bench meeting %d", "attendees": 6}',
      space, park_time(start), park_time(start + 1800), slot)
   local headers = {}
   for name, value in pairs(wrk.headers) do
      headers[name] = value
   end
   headers["Idempotency-Key"] = nonce .. "-" .. slot
   return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local seen = {}
   local sent = 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         seen[status] = (seen[status] or 0) + n
      end
      sent = math.max(sent, thread:get("count"))
   end
   local parts = {}
   for status, n in pairs(seen) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
         .. '"mean_us": %.1f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
         .. '"slots_sent": %d, "statuses": {%s}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.timeout,
      sent * #threads, table.concat(parts, ", ")))
end
