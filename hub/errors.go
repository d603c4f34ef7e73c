package hub

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error Resolve returns for one of these situations matches the
// sentinel with errors.Is, and carries a message that says what happened and what to do.
var (
	// ErrNotCached: offline mode is on (HF_HUB_OFFLINE) and the model is in neither cache.
	ErrNotCached = errors.New("model not cached")
	// ErrNetwork: the hub or its CDN could not be reached, or the connection kept failing.
	ErrNetwork = errors.New("hub unreachable")
	// ErrAuth: the hub refused access (HTTP 401 or 403): a gated or private repository, or a
	// bad token.
	ErrAuth = errors.New("hub access denied")
	// ErrNotFound: the repository, revision or a file does not exist (HTTP 404).
	ErrNotFound = errors.New("not found on the hub")
	// ErrUnsupported: the repository is not a Qwen3-VL checkpoint this package can use: its
	// config.json has another model_type or an unusable vision config, or it has no
	// safetensors weights, or (for Options.Text) no language model tensors.
	ErrUnsupported = errors.New("unsupported model")
	// ErrNoVisionWeights: the checkpoint has safetensors weights, but none of the vision tower.
	ErrNoVisionWeights = errors.New("no vision weights")
	// ErrDiskFull: the cache's disk has no room for the download.
	ErrDiskFull = errors.New("disk full")
	// ErrCorrupt: downloaded data failed verification (a size, range, checksum or format
	// check), or the server answered something inconsistent.
	ErrCorrupt = errors.New("download verification failed")
)

// hubError is an error with its own message that matches a sentinel (kind) and, if set, the
// underlying cause with errors.Is and errors.As.
type hubError struct {
	msg   string
	kind  error
	cause error
}

func (e *hubError) Error() string { return e.msg }

func (e *hubError) Unwrap() []error {
	errs := []error{e.kind}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// newError returns an error matching kind (and cause, if not nil) whose message is "hub: "
// followed by the formatted text.
func newError(kind, cause error, format string, args ...any) error {
	return &hubError{msg: "hub: " + fmt.Sprintf(format, args...), kind: kind, cause: cause}
}
