// Package server is the HTTP encoder service: it decodes and preprocesses images, batches
// concurrent requests into one vision.Model.Encode call, bounds its resources and reports
// Prometheus metrics. Its only state between requests is the feature cache, so any number of
// instances can run behind a load balancer (and share the cache's folder).
//
// # Routes
//
//	POST /v1/encode   images in, features out
//	POST /v1/explain.png   one image in: its patch grid, merge windows and dataflow drawn (PNG)
//	POST /v1/features.png  one image in: a PCA of each output drawn on its grid (PNG)
//	POST /v1/chat/completions  with a whole model (Config.Chat, SetAssistant): OpenAI's chat format
//	POST /v1/chat/completions  with Config.Upstream: encoded here, forwarded to the upstream
//	GET  /v1/models   the loaded model's id, config, preprocessing and limits
//	GET  /healthz     200 while the process is alive
//	GET  /readyz      200 once the model is loaded; 503 before, and while draining
//	GET  /metrics     Prometheus text format
//	GET  /            the page (Config.Page): drop an image, see its pictures, download its
//	                  features, ask about it (also /page.js, /page.css, /favicon.svg)
//
// POST /v1/encode takes one or more images as a multipart/form-data body (every file part,
// in order), a raw image body (Content-Type image/*), or JSON
// {"images": [{"data": "<base64>"}, …], "min_pixels": N, "max_pixels": N}. min_pixels and
// max_pixels (query parameters, form fields or JSON fields) narrow the resize budget within
// the server's limit; include=last_hidden_state adds last_hidden_state to a JSON response;
// format=vllm answers instead a JSON array of vLLM image_embeds chat content parts, one per
// image (pipeline.Features.WriteVLLMJSON).
// An image may also be {"url": U} or {"image_url": U | {"url": U}}. A remote U is fetched only
// when it is under one of the prefixes of Config.AllowURLs (empty by default: refused, as a
// server that fetches URLs for its clients can be made to reach addresses only it can reach,
// server-side request forgery); every redirect target must be under one too, each fetch is
// bounded by Config.FetchTimeout and the request's context, a request's fetched images
// together by Config.MaxBody, and, unless Config.FetchPrivate, a connection to a non-public
// address (loopback, private, link-local, …) is refused once the host name is resolved.
// Fetches happen before anything is decoded.
//
// The response is JSON by default, or, for Accept: application/octet-stream, a safetensors
// file with the tensors of `qwen3vl encode` (pooler_output, deepstack_features.K,
// last_hidden_state as float32, grid_thw as int64; the request's images concatenated in
// order). Every error is {"error": {"code": "…", "message": "…"}} with its status (see the
// Code constants).
//
// The pictures' routes are on the same path as POST /v1/encode (serveEncode): the same input
// forms, budget options, limits, admission, metrics and errors; one image each, Accept must
// allow image/png.
//
// # Chat completions
//
// With a whole model (Config.Chat makes Load open one with pipeline.OpenAssistant;
// SetAssistant installs one), POST /v1/chat/completions answers OpenAI's chat completion
// requests: messages with text and image_url parts (data URIs, or remote URLs under the
// allow-list, as above)
// become a chat.Conversation and images preprocessed as /v1/encode does, and
// pipeline.Assistant.Ask answers, as one JSON body or as server-sent events
// (chat.completion.chunk, then "data: [DONE]"). Config.ChatQueue requests are admitted at
// once (429 beyond) and one generation runs at a time; a client that goes away cancels its
// generation. Errors have OpenAI's shape {"error": {"message", "type", "param", "code"}}
// (OpenAIError).
//
// # Encoding proxy
//
// With Config.Upstream (not with Chat), POST /v1/chat/completions is forwarded to
// Upstream + "/v1/chat/completions", a vLLM OpenAI-compatible server started with
// --enable-mm-embeds. The body is read under the encoder's limits and admitted as an encode
// request; every image_url part (a data URI, or a URL under the allow-list, fetched) is
// encoded through the batcher and replaced in place by its vLLM image_embeds part
// (pipeline.VLLMPart); every other member, message and part is forwarded as received, and a
// request without images byte for byte. A request with images has its mm_processor_kwargs
// read as vLLM resizes with them (size, min_pixels, max_pixels; another key, or image media_io_kwargs, is
// 400, since the images are decoded and resized here); a message without a string role or
// with content that is not a string, a list or null, and a video part are refused (400).
// Only the request's Authorization, Content-Type and Accept headers are sent upstream. The
// upstream's status, headers (but those of the connection) and body come back unchanged,
// flushed as they arrive (server-sent events stream live). An answer no OpenAI-compatible
// chat server gives is 502 upstream_invalid naming the upstream and what it sent: a 4xx
// whose body is not an OpenAI error object ({"detail": "Not Found"} of a server without the
// route, an HTML page), a 2xx that is neither an event stream nor a JSON object with a
// choices list, a redirect; 5xx answers pass through. An unreachable upstream is 502
// upstream_unreachable, no answer within Config.UpstreamTimeout 504 upstream_timeout (a
// connection closed once the answer has begun); a client that goes away cancels the upstream
// request. Errors of the proxy itself have OpenAI's shape and come before anything is sent.
//
// # vLLM's encoder cache
//
// With Config.VLLMECDir, every image encoded (by /v1/encode and by the proxy) is also written
// to vLLM's example EC connector layout, VLLMECDir/{mm_hash}/encoder_cache.safetensors
// (pipeline.VLLMECEntry), hashed as vLLM 0.34.0 hashes the same bytes with Config.VLLMModel,
// Config.VLLMHash and the request's mm_processor_kwargs (for /v1/encode: its min_pixels and
// max_pixels, in that order). The X-Vllm-Ec-Hashes response header lists each image's hash
// ("-" where no entry was written: an image vLLM would load otherwise, or a failed write,
// both logged and counted in qwen3vl_vllm_ec_entries_total{outcome="skipped"}).
//
// # Feature cache
//
// Encode results are kept by content (cache.go): the key is SHA-256 of the image's bytes, the
// model's weights digest (pipeline.Pipeline.Digest, or Config.ModelDigest), the weights form,
// the arithmetic, the kernels and every resolved preprocessing option. A hit skips decoding
// and encoding and returns the same bits. Entries live in an LRU bounded by Config.CacheBytes
// and, with Config.CacheDir, in a folder of atomically written, verified files (a bad entry
// is a miss and is removed). An image being encoded for one request is waited for by the
// others, not encoded again. /v1/encode, the proxy and chat completions all go through it.
// The key names the build only by its module version and VCS revision: two development
// builds without either share a folder's entries, so after changing the kernels' arithmetic
// empty the folder (or give each build its own).
//
// # Batching
//
// One batcher goroutine takes the first queued request, waits up to Config.BatchWait for
// more (taking at most Config.BatchPatches patches), and encodes them all in one call. The
// tower's attention never crosses images, so each request gets bit for bit the rows it would
// get alone. A request whose client has gone (or whose time is up) leaves the queue at once
// and never starts; an encode whose every caller has gone is cancelled.
//
// # Limits
//
// Besides the body, image and pixel limits: a body must arrive at Config.MinUploadRate
// (408 below it, after Config.UploadGrace), and a request whose estimated work
// (vision.FLOPs of its resized images) cannot finish within Config.Timeout at this instance's
// measured speed is refused with 413 too_much_work before it is queued. The speed is measured
// at load with one small calibration encode and follows the batches encoded since.
//
// Every request is answered with a status and a body, or, when its client has gone (also
// half-way through a response), its connection is closed and it is logged and counted as
// 499; never an empty 200.
//
// # Shutdown
//
// Serve (and Run) shut down within Config.ShutdownTimeout: /readyz and new encode requests
// answer 503 with the listener still open for Config.DrainDelay, then the listener closes
// and the requests in flight finish; when the time is up the requests left are answered 503
// and the server returns, leaving behind (and logging) an encode that ignores cancellation.
//
// # Use
//
// Config is a plain struct: start from DefaultConfig and set fields (cmd/qwen3vl binds them
// to flags and QWEN3VL_* environment variables). Then
//
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	return server.Run(ctx, cfg)
//
// Validate reports each field out of range as a *FieldError, whose Describe names fields as
// the caller likes (a command line, by its flags). Tests and embedders use New, SetModel (or
// Load) and the Server as an http.Handler.
package server
