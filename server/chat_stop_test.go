package server

import (
	"strings"
	"testing"
)

func TestStopCutter(t *testing.T) {
	for _, c := range []struct {
		name     string
		stops    []string
		pieces   []string
		released []string // after each piece, then the flush
	}{
		{"none", nil, []string{"ab", "cd"}, []string{"ab", "cd", ""}},
		{"cut inside a piece", []string{"o w"}, []string{"He", "llo wo", "rld"}, []string{"He", "ll", "", ""}},
		{"held then released", []string{"xyz"}, []string{"ab x", "y", "q"}, []string{"ab ", "", "xyq", ""}},
		{"held to the end", []string{"xyz"}, []string{"ab x", "y"}, []string{"ab ", "", "xy"}},
		{"across pieces", []string{"xyz"}, []string{"ab x", "yz tail"}, []string{"ab ", "", ""}},
		{"earliest of two", []string{"cd", "b"}, []string{"abcd"}, []string{"a", ""}},
		{"multibyte", []string{"恒恒"}, []string{"ft恒", "恒god"}, []string{"ft", "", ""}},
		{"at the start", []string{"\n"}, []string{"\nab"}, []string{"", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cut := &stopCutter{stops: c.stops}
			var got []string
			for _, p := range c.pieces {
				got = append(got, cut.add(p))
			}
			got = append(got, cut.flush())
			if strings.Join(got, "|") != strings.Join(c.released, "|") {
				t.Errorf("released %q, want %q", got, c.released)
			}
			if all, want := strings.Join(got, ""), cutAtStop(strings.Join(c.pieces, ""), c.stops); all != want {
				t.Errorf("stream %q, whole %q", all, want)
			}
		})
	}
}
