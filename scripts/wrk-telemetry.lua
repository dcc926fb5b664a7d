-- wrk script: single-point POST /v1/telemetry, spread over 100 services, no timestamp
-- (driftd stamps server time). Used by scripts/bench-http-json.sh.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local n = 0
request = function()
    n = n + 1
    local body = string.format('{"service_id":"svc-%d","latency_ms":%d.5,"payload_kb":2.5}', n % 100, 100 + n % 17)
    return wrk.format(nil, "/v1/telemetry", nil, body)
end
