-- wrk script: each thread posts its own slice of pre-signed webhook deliveries, one per request, in
-- order. Once its slice is sent a thread idles (delay) instead of sending more; the bench stops wrk
-- when the database shows every event stored, so every event is posted exactly once per pass.
-- With a third argument "loop", threads post their slice over and over (the bare view's anchor).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  loop_ = args[3] == "loop"
  requests_, n_ = {}, 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local signature, body = line:match("^([^\t]*)\t(.*)$")
      n_ = n_ + 1
      requests_[n_] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["X-Hub-Signature"] = signature,
      }, body)
    end
    i = i + 1
  end
  next_ = 1
end

function delay()
  if next_ > n_ and not loop_ then
    return 60000
  end
  return 0
end

function request()
  -- wrk asks once for a request before the run starts (and never sends it): the first event is
  -- handed out twice so it is not lost to that call; the server takes the second as a duplicate.
  if loop_ and next_ > n_ then
    next_ = 1
  end
  local r = requests_[math.min(next_, n_)]
  if primed_ then
    next_ = next_ + 1
  end
  primed_ = true
  return r
end
