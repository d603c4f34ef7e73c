package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes of the JSON error body {"error": {"code": …, "message": …}}.
const (
	CodeInvalidRequest       = "invalid_request"        // 400: malformed multipart, empty body, no images
	CodeInvalidJSON          = "invalid_json"           // 400: the JSON body does not parse or has the wrong shape
	CodeInvalidParameter     = "invalid_parameter"      // 400: a bad query parameter or field (min_pixels, include, …)
	CodeInvalidImage         = "invalid_image"          // 400: an image that does not decode
	CodeUnsupportedParameter = "unsupported_parameter"  // 400: a chat feature this server does not offer (tools, logprobs, …)
	CodeURLNotSupported      = "url_not_supported"      // 400: an image given by URL, and Config.AllowURLs is empty (SSRF)
	CodeURLNotAllowed        = "url_not_allowed"        // 400: an image URL (or a redirect target) off Config.AllowURLs, bad, or resolving to a non-public address
	CodeNotFound             = "not_found"              // 404
	CodeMethodNotAllowed     = "method_not_allowed"     // 405
	CodeNotAcceptable        = "not_acceptable"         // 406: Accept allows neither JSON nor safetensors
	CodeSlowUpload           = "slow_upload"            // 408: the body arrives slower than Config.MinUploadRate
	CodeBodyTooLarge         = "body_too_large"         // 413: over Config.MaxBody
	CodeTooManyImages        = "too_many_images"        // 413: over Config.MaxImages
	CodeTooMuchWork          = "too_much_work"          // 413: estimated to need longer than Config.Timeout
	CodeFetchTooLarge        = "fetch_too_large"        // 413: the images fetched by URL over Config.MaxBody
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeImageTooLarge        = "image_too_large"        // 422: over Config.MaxDecodePixels
	CodeAspectRatio          = "aspect_ratio"           // 422: longer side over 200 × the shorter
	CodeImageUnprocessable   = "image_unprocessable"    // 422: any other size the budget cannot handle
	CodeFetchFailed          = "fetch_failed"           // 422: an image URL answered other than 2xx, timed out, or failed to connect
	CodeQueueFull            = "queue_full"             // 429 (with Retry-After)
	CodeInternal             = "internal"               // 500
	CodeNotReady             = "not_ready"              // 503: the model is still loading
	CodeDraining             = "draining"               // 503: shutting down (with Retry-After)
	CodeTimeout              = "timeout"                // 504: over Config.Timeout
)

// StatusClientClosedRequest is the status logged (and counted in the metrics) for a request
// whose client went away before its response was delivered: nothing more is sent and the
// connection is closed (also when a response was abandoned half-way). The number is nginx's.
const StatusClientClosedRequest = 499

// apiError is an error with the HTTP status and code it is answered with.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter int    // seconds; 0: no Retry-After header
	param      string // the request field at fault, for the OpenAI error body
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errorf(status int, code, format string, a ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, a...)}
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers with e as a JSON error body.
func writeError(w http.ResponseWriter, e *apiError) {
	var body ErrorBody
	body.Error.Code, body.Error.Message = e.code, e.msg
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	w.Write(append(b, '\n'))
}

// sizeString writes a byte count the way limits are stated: "64 MiB", "200 KiB", "1000 bytes".
func sizeString(n int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// OpenAIError is the JSON body of every error of POST /v1/chat/completions, in OpenAI's
// shape: type is invalid_request_error (4xx) or server_error (5xx), code the server's code
// (as in ErrorBody), param the request field at fault or null.
type OpenAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

// openAIError is e in OpenAI's shape.
func openAIError(e *apiError) OpenAIError {
	var body OpenAIError
	body.Error.Message, body.Error.Code = e.msg, e.code
	body.Error.Type = "invalid_request_error"
	switch {
	case e.status >= 500:
		body.Error.Type = "server_error"
	case e.status == http.StatusTooManyRequests:
		body.Error.Type = "rate_limit_error"
	}
	if e.param != "" {
		p := e.param
		body.Error.Param = &p
	}
	return body
}

// writeOpenAIError answers with e in OpenAI's error shape.
func writeOpenAIError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(openAIError(e))
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	w.Write(append(b, '\n'))
}
