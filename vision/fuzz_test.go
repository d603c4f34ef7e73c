package vision

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRandom feeds any -model value to ParseRandom. It must not panic; a spec without the
// "random:" prefix is not its business, and an accepted one is a valid preset with the seed
// the spec gives.
func FuzzParseRandom(f *testing.F) {
	for _, s := range []string{"random:tiny", "random:qwen3-vl-8b@42", "random:tiny@x", "random:nope",
		"/models/qwen", "random:", "random:@", "random:tiny@", "random:tiny@18446744073709551615",
		"random:tiny@18446744073709551616", "random:tiny@-1", "random:tiny@+1", "random:tiny@1@2", "Random:tiny"} {
		f.Add(s)
	}
	for _, n := range PresetNames() {
		f.Add("random:" + n + "@7")
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cfg, seed, ok, err := ParseRandom(spec)
		if ok != strings.HasPrefix(spec, "random:") {
			t.Fatalf("ParseRandom(%q): ok = %v", spec, ok)
		}
		if !ok {
			if err != nil || seed != 0 || cfg.Depth != 0 {
				t.Fatalf("ParseRandom(%q) = %+v, %d, %v for a spec of another form", spec, cfg, seed, err)
			}
			return
		}
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseRandom(%q) returned an invalid config: %v", spec, err)
		}
		name, seedText, hasSeed := strings.Cut(strings.TrimPrefix(spec, "random:"), "@")
		want, err := Preset(name)
		if err != nil {
			t.Fatalf("ParseRandom(%q) accepted the unknown preset %q", spec, name)
		}
		if !reflect.DeepEqual(cfg, want) {
			t.Fatalf("ParseRandom(%q) = %+v, want preset %+v", spec, cfg, want)
		}
		if !hasSeed && seed != DefaultRandomSeed {
			t.Fatalf("ParseRandom(%q): seed %d, want the default %d", spec, seed, DefaultRandomSeed)
		}
		if hasSeed && strconv.FormatUint(seed, 10) != strings.TrimLeft(seedText, "0") && !(seed == 0 && strings.Trim(seedText, "0") == "") {
			t.Fatalf("ParseRandom(%q): seed %d is not %q", spec, seed, seedText)
		}
	})
}
