-- wrk script for `vision serve`: POSTs a sample image as a raw JPEG body.
--   VISION_MODELS=Models .build/release/vision serve --port 5000 &
--   wrk -t2 -c4 -d30s --latency -s Tests/Browser/serve_wrk.lua http://127.0.0.1:5000/api/v1/predict
-- wrk counts every non-2xx answer (the intended 503s too) as "Non-2xx or 3xx responses".
local file = io.open(os.getenv("VISION_WRK_IMAGE") or "Samples/bccd/JPEGImages/BloodImage_00007.jpg", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "image/jpeg"
