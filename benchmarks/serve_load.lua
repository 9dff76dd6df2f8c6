-- wrk script of the serving benchmark (benchmarks/bench_serve.py): every request is a POST of
-- the JSON body in the file named by $BENCH_SERVE_BODY (a 1-row dataframe_split request).
local path = os.getenv("BENCH_SERVE_BODY")
if path == nil then
  error("BENCH_SERVE_BODY is not set: it names the JSON request body file")
end
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
