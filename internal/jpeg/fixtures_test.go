package jpeg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is one line of testdata/jpeg/MANIFEST.
type fixture struct {
	name, expect, how string
}

func loadManifest(t testing.TB) []fixture {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []fixture
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("bad MANIFEST line %q", line)
		}
		fs = append(fs, fixture{f[0], f[1], f[2]})
	}
	return fs
}

// TestFixtures decodes every committed fixture and requires 0 differing
// bytes against the libjpeg-turbo reference pixels (or the expected error).
func TestFixtures(t *testing.T) {
	fs := loadManifest(t)
	if len(fs) < 50 {
		t.Fatalf("only %d fixtures", len(fs))
	}
	for _, f := range fs {
		t.Run(f.name, func(t *testing.T) {
			jpg, err := os.ReadFile(filepath.Join(fixtureDir, f.name))
			if err != nil {
				t.Fatal(err)
			}
			kind, arg, _ := strings.Cut(f.expect, ":")
			decode := Decode
			if k, ok := strings.CutPrefix(kind, "legacy-"); ok {
				// Reference from libjpeg-turbo 2.x (see smooth.go).
				kind, decode = k, decodeLegacy
			}
			img, derr := decode(bytes.NewReader(jpg))
			if kind == "error" {
				if derr == nil {
					t.Fatalf("decoded without error, want %s error (%s)", arg, f.how)
				}
				var fe FormatError
				var ue UnsupportedError
				switch arg {
				case "truncated":
					if !errors.Is(derr, ErrTruncated) {
						t.Fatalf("got %v, want ErrTruncated", derr)
					}
				case "format":
					if !errors.As(derr, &fe) {
						t.Fatalf("got %v (%T), want FormatError", derr, derr)
					}
				case "unsupported":
					if !errors.As(derr, &ue) {
						t.Fatalf("got %v (%T), want UnsupportedError", derr, derr)
					}
				}
				return
			}
			if derr != nil {
				t.Fatalf("Decode: %v (%s)", derr, f.how)
			}
			w, h, ch, pix := samples(img)
			cfg, err := DecodeConfig(bytes.NewReader(jpg))
			if err != nil || cfg.Width != w || cfg.Height != h {
				t.Fatalf("DecodeConfig = %+v, %v; image is %dx%d", cfg, err, w, h)
			}
			header := pnmHeader(w, h, ch)
			switch kind {
			case "ref":
				ref, err := os.ReadFile(filepath.Join(fixtureDir, arg))
				if err != nil {
					t.Fatal(err)
				}
				rw, rh, rch, rpix, err := readPNM(ref)
				if err != nil {
					t.Fatal(err)
				}
				if rw != w || rh != h || rch != ch {
					t.Fatalf("got %dx%dx%d, reference %dx%dx%d", w, h, ch, rw, rh, rch)
				}
				if d := diffCount(pix, rpix); d != 0 {
					t.Fatalf("%d differing bytes", d)
				}
			case "sha256":
				sum := sha256.Sum256(append([]byte(header), pix...))
				if hex.EncodeToString(sum[:]) != arg {
					t.Fatalf("sha256 of pixels differs from reference")
				}
			default:
				t.Fatalf("bad expectation %q", f.expect)
			}
		})
	}
}

// pnmHeader is the header djpeg/ljref write, used for the sha256 references.
func pnmHeader(w, h, ch int) string {
	magic := map[int]string{1: "P5", 3: "P6", 4: "P4CMYK"}[ch]
	return fmt.Sprintf("%s\n%d %d\n255\n", magic, w, h)
}
