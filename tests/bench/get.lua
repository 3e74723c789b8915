-- A plain GET (headers from wrk -H) that prints the RESULT line (summary.lua) when wrk is done.
-- usage: wrk ... -s get.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "summary.lua")

function done(summary, latency, requests)
  print_summary(summary, latency)
end
