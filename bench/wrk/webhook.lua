-- wrk driver for availd's webhook endpoint (and the baseline): POSTs distinct signed deliveries.
--
--   bench/wrk/deliveries.py --count N --seed S --key K --out FILE      # right before the run
--   wrk -t2 -c64 -d20s --timeout 10s -s bench/wrk/webhook.lua http://127.0.0.1:PORT/webhooks/calendly -- FILE 2
--
-- Script arguments (after `--`): the deliveries file, and the number of wrk threads (-t; wrk does
-- not tell a script, so pass the same number; default 2). Each thread loads its own contiguous
-- slice of the file (setup() hands it its number, init() reads only that slice) and cycles
-- through it; a thread that reaches the end of its slice starts again, so later requests are
-- duplicates (200) rather than new deliveries (202): `wraps` in the result says whether it
-- happened (make the file bigger when it does).
--
-- Requests are built in init(), before the clock starts; request() only picks the next one.
-- wrk calls each thread's init() in turn and starts that thread right after it, so thread 1
-- would be sending while thread 2 still loads (and those answers would count, though wrk's
-- clock starts only once every thread is created). So the last thread's init() leaves a marker
-- file (FILE.ready) when done, and every thread's first request() waits for it: all start
-- together. (Only thread 1's very first request() is answered at once: wrk's main thread makes
-- that call itself, before any thread runs.)
-- response() counts statuses per thread; done() adds them up, prints a short report and, as the
-- LAST line of the output, one JSON object for scripts:
--   {"requests":N,"duration_s":S,"requests_per_s":R,"status_2xx":A,"status_202":B,"status_200":C,
--    "non_2xx":D,"statuses":{"503":n,...},"errors":{"connect":..,"read":..,"write":..,"timeout":..,"status":..},
--    "acknowledged_per_s":A/S,"latency_ms":{"min":..,"mean":..,"stdev":..,"max":..,"p50":..,"p90":..,"p99":..,"p99.9":..},
--    "deliveries":N, "slices":[..], "wraps":W, "threads":T}
-- Latency is wrk's: from writing a request to reading its answer, per connection (closed loop).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_number", counter)
   table.insert(threads, thread)
end

local function read_slice(path, number, count)
   local file = assert(io.open(path, "rb"))
   local header = file:read("*l")
   local total = header and tonumber(header:match("count=(%d+)"))
   assert(total and total > 0, path .. ": not a deliveries file (bench/wrk/deliveries.py)")
   -- Slice `number` of `count`: [first, last], 1-based over the delivery lines.
   local size = math.floor(total / count)
   local first = (number - 1) * size + 1
   local last = (number == count) and total or number * size
   local host = wrk.headers["Host"]
   local list = {}
   local index = 0
   for line in file:lines() do
      index = index + 1
      if index > last then break end
      if index >= first then
         local tab = line:find("\t", 1, true)
         local signature = line:sub(1, tab - 1)
         local body = line:sub(tab + 1)
         list[#list + 1] = wrk.format("POST", wrk.path, {
            ["Host"] = host,
            ["Content-Type"] = "application/json",
            ["Calendly-Webhook-Signature"] = signature,
         }, body)
      end
   end
   file:close()
   assert(#list > 0, "thread " .. number .. " got no deliveries: the file holds fewer than the threads")
   return list, total
end

local function sleep_ms(ms)
   local ok, ffi = pcall(require, "ffi")
   if ok then
      pcall(ffi.cdef, "int poll(void *fds, unsigned long nfds, int timeout);")
      ffi.C.poll(nil, 0, ms)
   else
      os.execute(string.format("sleep %.3f", ms / 1000))
   end
end

function init(args)
   local path = args[1] or os.getenv("WRK_DELIVERIES")
   assert(path, "usage: wrk ... -s webhook.lua URL -- DELIVERIES_FILE [THREADS]")
   local count = tonumber(args[2] or os.getenv("WRK_THREADS") or "2")
   assert(thread_number <= count, "more wrk threads (-t) than the THREADS argument says")
   ready_marker = path .. ".ready"
   if thread_number == 1 then os.remove(ready_marker) end
   requests_list, deliveries = read_slice(path, thread_number, count)
   if thread_number == count then
      local marker = assert(io.open(ready_marker, "w"))
      marker:close()
      started = true
   else
      started = false
   end
   slice = #requests_list
   threads_given = count
   position = 0
   wraps = 0
   status_2xx, status_202, status_200, non_2xx = 0, 0, 0, 0
   statuses = {}
end

function request()
   if not started and thread_number == 1 and not verified then
      -- wrk's main thread calls thread 1's request() once, before starting any thread, to see
      -- whether the script pipelines (script_verify_request): answer it without waiting (the
      -- other threads are not loaded yet) and without using up a delivery.
      verified = true
      return requests_list[1]
   end
   if not started then
      -- Wait (blocking this thread's loop, so nothing is sent) until every thread has loaded.
      for _ = 1, 12000 do -- at most a minute
         local marker = io.open(ready_marker, "r")
         if marker then marker:close() break end
         sleep_ms(5)
      end
      started = true
   end
   position = position + 1
   if position > slice then
      position = 1
      wraps = wraps + 1
   end
   return requests_list[position]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      status_2xx = status_2xx + 1
      if status == 202 then
         status_202 = status_202 + 1
      elseif status == 200 then
         status_200 = status_200 + 1
      end
   else
      non_2xx = non_2xx + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

-- A small JSON writer: numbers, strings, booleans, arrays (tables with [1]) and objects.
local function json(value)
   local kind = type(value)
   if kind == "number" then
      if value ~= value or value == math.huge or value == -math.huge then return "null" end
      if value == math.floor(value) and math.abs(value) < 1e15 then return string.format("%d", value) end
      return string.format("%.6g", value)
   elseif kind == "string" then
      return '"' .. value:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
   elseif kind == "boolean" then
      return tostring(value)
   elseif kind == "table" then
      local parts = {}
      if value[1] ~= nil then
         for _, item in ipairs(value) do parts[#parts + 1] = json(item) end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      local keys = {}
      for key in pairs(value) do keys[#keys + 1] = key end
      table.sort(keys)
      for _, key in ipairs(keys) do parts[#parts + 1] = json(tostring(key)) .. ":" .. json(value[key]) end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return "null"
end

local function ms(microseconds)
   return math.floor(microseconds + 0.5) / 1000
end

function done(summary, latency, requests)
   local totals = { status_2xx = 0, status_202 = 0, status_200 = 0, non_2xx = 0, wraps = 0 }
   local statuses, slices = {}, {}
   local deliveries = 0
   for _, thread in ipairs(threads) do
      for key in pairs(totals) do totals[key] = totals[key] + (thread:get(key) or 0) end
      for status, n in pairs(thread:get("statuses") or {}) do statuses[status] = (statuses[status] or 0) + n end
      slices[#slices + 1] = thread:get("slice") or 0
      deliveries = thread:get("deliveries") or deliveries
   end
   local seconds = summary.duration / 1e6
   local result = {
      requests = summary.requests,
      duration_s = seconds,
      requests_per_s = summary.requests / seconds,
      acknowledged_per_s = totals.status_2xx / seconds,
      status_2xx = totals.status_2xx,
      status_202 = totals.status_202,
      status_200 = totals.status_200,
      non_2xx = totals.non_2xx,
      statuses = statuses,
      errors = summary.errors,
      bytes = summary.bytes,
      latency_ms = {
         min = ms(latency.min), mean = ms(latency.mean), stdev = ms(latency.stdev), max = ms(latency.max),
         p50 = ms(latency:percentile(50)), p90 = ms(latency:percentile(90)),
         p99 = ms(latency:percentile(99)), ["p99.9"] = ms(latency:percentile(99.9)),
      },
      deliveries = deliveries,
      slices = slices,
      threads = #threads,
      wraps = totals.wraps,
   }
   io.write(string.format("2xx %d (202 %d, 200 %d), non-2xx %d", totals.status_2xx, totals.status_202,
      totals.status_200, totals.non_2xx))
   for status, n in pairs(statuses) do io.write(string.format(", %s: %d", status, n)) end
   io.write(string.format("; socket errors connect %d read %d write %d timeout %d\n", summary.errors.connect,
      summary.errors.read, summary.errors.write, summary.errors.timeout))
   io.write(string.format("acknowledged/s %.1f; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
      result.acknowledged_per_s, result.latency_ms.p50, result.latency_ms.p90, result.latency_ms.p99,
      result.latency_ms["p99.9"]))
   if totals.wraps > 0 then
      io.write(string.format("note: threads wrapped around their slices %d times (later requests were duplicates)\n",
         totals.wraps))
   end
   io.write(json(result), "\n")
end
