"""Drive one scenario with wrk (a separate process) and read back its latency distribution.

Each scenario is a list of requests (method, path, credentials, body) written to a file — the
credentials an ``Authorization`` value, or ``Cookie: …`` for a page's browser session; the Lua script
cycles through them, so every connection sends different users' requests, and reports the numbers
as one JSON line at the end.
"""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LUA = r"""
local requests = {}
local counter = 0

local function split(line)
  local parts = {}
  for part in string.gmatch(line, "([^\t]*)\t?") do table.insert(parts, part) end
  return parts
end

init = function(args)
  for line in io.lines(args[1]) do
    local p = split(line)
    local headers = {}
    if string.sub(p[3], 1, 8) == "Cookie: " then headers["Cookie"] = string.sub(p[3], 9)
    elseif p[3] ~= "" then headers["Authorization"] = p[3] end
    if p[4] ~= "" then headers["Content-Type"] = "application/json" end
    table.insert(requests, wrk.format(p[1], p[2], headers, p[4] ~= "" and p[4] or nil))
  end
  -- Each thread starts at its own share of the list (wrk's threads would otherwise all send
  -- the same sequence: their random generators start from the same seed).
  counter = math.floor((id - 1) * #requests / tonumber(args[2]))
end

request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

-- Per-thread status counts (a global, so that done() can collect them with thread:get).
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  local mix = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do mix[status] = (mix[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(mix) do table.insert(parts, string.format('"%d": %d', status, n)) end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "statuses": {%s}}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    table.concat(parts, ", ")))
end
"""


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def run(
    base_url: str,
    requests: list[tuple[str, str, str, str]],
    *,
    duration: int,
    connections: int,
    threads: int = 2,
) -> dict:
    """Run wrk over ``requests`` (method, path, authorization header, JSON body) and return its figures."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "scenario.lua"
        script.write_text(LUA)
        lines = Path(tmp) / "requests.tsv"
        lines.write_text("\n".join("\t".join(r) for r in requests) + "\n")
        result = subprocess.run(
            [
                wrk,
                f"-t{min(threads, connections)}",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base_url,
                "--",
                str(lines),
                str(min(threads, connections)),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    last = [line for line in result.stdout.splitlines() if line.startswith("{")][-1]
    figures = json.loads(last)
    seconds = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "rps": figures["requests"] / seconds if seconds else 0.0,
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "errors": figures["errors"],
        "non_2xx": figures["non_2xx"],
        "statuses": dict(sorted(figures["statuses"].items())),
    }
