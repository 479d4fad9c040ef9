-- wrk: cycle through the URL paths listed in the file named after "--"; requests are built once.
-- At the end prints "RESULT requests=N seconds=S p50_us=X p99_us=Y errors=E non2xx=M".
local list, pos = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(list, wrk.format("GET", line)) end
  end
  pos = math.random(#list)
end

function request()
  pos = (pos % #list) + 1
  return list[pos]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
