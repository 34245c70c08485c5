-- wrk script for the Kehu bench: cycles through request paths read from a
-- file (one per line), each with the same headers (Authorization or Cookie).
-- Usage: wrk ... -s paths.lua http://127.0.0.1:PORT -- PATHS_FILE ['Name: value' ...]
local reqs = {}
local idx = 0

function init(args)
  local file = args[1]
  local headers = {}
  for i = 2, #args do
    local k, v = args[i]:match("^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  for line in io.lines(file) do
    if #line > 0 then
      reqs[#reqs + 1] = wrk.format("GET", line, headers)
    end
  end
  if #reqs == 0 then
    error("no paths in " .. file)
  end
  idx = math.random(#reqs) - 1
end

function request()
  idx = (idx % #reqs) + 1
  return reqs[idx]
end
