package kernels

import "testing"

// TestName: one implementation is chosen, the last of impls; generic is always there.
func TestName(t *testing.T) {
	if len(impls) < 1 || len(impls) > 2 || impls[0] != generic {
		t.Fatalf("impls = %v, want generic first and at most one more", impls)
	}
	if Name() != active.name || active != impls[len(impls)-1] {
		t.Errorf("Name() = %q, active %q, impls %d", Name(), active.name, len(impls))
	}
}
