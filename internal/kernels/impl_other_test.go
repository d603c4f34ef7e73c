//go:build !amd64 || purego

package kernels

import "testing"

// TestGenericChosen: without assembly in the build, the portable Go is the only implementation.
func TestGenericChosen(t *testing.T) {
	if Name() != "generic" || len(impls) != 1 {
		t.Errorf("Name() = %q, %d implementations; want generic alone", Name(), len(impls))
	}
}
