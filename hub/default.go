package hub

import (
	"context"
	"errors"
	"strings"

	"github.com/qwen3vl/qwen3vl/vision"
)

// DefaultModelError is the error ResolveDefault returns when DefaultModel, used because the
// user named no model, cannot be had: offline and not cached, the hub unreachable, access
// refused or not found. Its message says that the model was the default and what to give
// instead (a local checkpoint folder, or random:PRESET for a dry run); Err is Resolve's error,
// so errors.Is still matches ErrNetwork, ErrNotCached, ErrAuth or ErrNotFound.
type DefaultModelError struct {
	Err error
}

func (e *DefaultModelError) Error() string {
	return "hub: no -model was given, and the default, " + DefaultModel + ", is not available: " +
		strings.TrimPrefix(e.Err.Error(), "hub: ") +
		"; give -model DIR for a local checkpoint folder (config.json and safetensors weights), " +
		"or -model random:PRESET for a dry run on synthetic weights (presets: " +
		strings.Join(vision.PresetNames(), ", ") + ")"
}

func (e *DefaultModelError) Unwrap() error { return e.Err }

// ResolveDefault is Resolve(ctx, DefaultModel, opts) for a caller whose user named no model:
// a failure to get it (ErrNotCached, ErrNetwork, ErrAuth, ErrNotFound) is returned as a
// *DefaultModelError, which says so and suggests the alternatives. Other errors (a full
// disk, a failed verification, cancellation) are returned as Resolve returns them.
func ResolveDefault(ctx context.Context, opts Options) (string, error) {
	dir, err := Resolve(ctx, DefaultModel, opts)
	if err != nil && ctx.Err() == nil {
		for _, kind := range []error{ErrNotCached, ErrNetwork, ErrAuth, ErrNotFound} {
			if errors.Is(err, kind) {
				return "", &DefaultModelError{Err: err}
			}
		}
	}
	return dir, err
}
