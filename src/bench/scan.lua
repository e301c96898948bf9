-- wrk script: a USB-scanner scan (JSON code + Enter) as a pickup worker sends it; wrk reports non-2xx answers.
-- Usage: TOKEN=... wrk -t2 -c32 -d20s -s src/bench/scan.lua http://127.0.0.1:8080/api/v1/scans
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
-- As the staff app's browser does; ACCEPT_ENCODING= (empty) sends none.
local accept = os.getenv("ACCEPT_ENCODING") or "gzip, deflate, br, zstd"
if accept ~= "" then wrk.headers["Accept-Encoding"] = accept end
wrk.body = '{"code":"' .. (os.getenv("CODE") or "D00DEM0000AN") .. '\\r\\n"}'
