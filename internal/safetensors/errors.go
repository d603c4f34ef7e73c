package safetensors

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (with errors.Is) by every error reporting malformed
// safetensors data: a bad header, an inconsistent shard index, or tensors
// that cannot be written. I/O failures wrap the underlying error instead
// (for example fs.ErrNotExist).
var ErrInvalid = errors.New("invalid safetensors data")

// ErrNotFound is matched by the error returned when a requested tensor is
// not present (or not kept, for a Set).
var ErrNotFound = errors.New("no such tensor")

// msgError is an error with its own message that still matches a sentinel
// error with errors.Is.
type msgError struct {
	msg    string
	err    error
	syntax bool // a JSON syntax error, which needs no further context
}

func (e *msgError) Error() string { return e.msg }
func (e *msgError) Unwrap() error { return e.err }

// invalidf returns an error matching ErrInvalid with a message built like
// fmt.Sprintf.
func invalidf(format string, args ...any) error {
	return &msgError{msg: fmt.Sprintf(format, args...), err: ErrInvalid}
}

// notFound returns an error for a missing tensor that matches ErrNotFound.
func notFound(name string) error {
	return &msgError{msg: "tensor " + quote(name) + ": no such tensor", err: ErrNotFound}
}
