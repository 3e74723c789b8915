-- POST /{repo}/ask-access, each request by a distinct user: the wrk threads share the token
-- list round-robin (thread i sends tokens i+1, i+1+T, i+1+2T, ...), so no token is sent twice.
-- usage: wrk -t T ... -s ask.lua URL -- PATH TOKENS_FILE T
-- Running out of tokens stops the thread (its last requests reuse a token and get a 409) and
-- prints exhausted=1: the run is then invalid (wrk still divides by the full duration), so give
-- it more users.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "summary.lua")

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local body = '{"fields": {"Company": "ACME"}}'
local tokens, path, stride, index

function init(args)
  path, stride = args[1], tonumber(args[3])
  tokens = {}
  for line in io.lines(args[2]) do tokens[#tokens + 1] = line end
  index = id + 1
  issued = 0
  exhausted = 0
end

function request()
  local token = tokens[index]
  if token == nil then
    -- Out of distinct users: stop, and reuse the last one so the run is seen to be invalid.
    exhausted = 1
    wrk.thread:stop()
    token = tokens[index - stride]
  else
    index = index + stride
    issued = issued + 1
  end
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function done(summary, latency, requests)
  print_summary(summary, latency)
  local sent, out = 0, 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("issued")
    out = math.max(out, thread:get("exhausted"))
  end
  io.write(string.format("ASK distinct_tokens_sent=%d exhausted=%d\n", sent, out))
end
