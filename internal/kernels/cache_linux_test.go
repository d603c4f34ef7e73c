//go:build linux

package kernels

import "testing"

func TestParseCacheSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"32768K", 32 << 20}, {"32M", 32 << 20}, {"1G", 1 << 30}, {"512", 512},
		{"", 0}, {"K", 0}, {"-4K", 0}, {"12Q", 0}, {"1.5M", 0},
	} {
		if got := parseCacheSize(tc.in); got != tc.want {
			t.Errorf("parseCacheSize(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
