package jpeg

import (
	"bytes"
	"fmt"
	"image"
	stdjpeg "image/jpeg"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// randomJPEG encodes a random synthetic picture with random cjpeg options,
// a third of them arithmetic-coded (or, one time in eight, Go's
// image/jpeg). It returns the file and a
// description of how it was made.
func randomJPEG(t *testing.T, rng *rand.Rand) ([]byte, string) {
	kinds := []string{"gradient", "noise", "edges", "mix"}
	samplings := []string{"1x1", "2x1", "1x2", "2x2", "4x1", "1x4", "4x2", "2x4", "3x1", "1x3", "3x2",
		"2x2,2x1,1x2", "1x1,2x2,1x1", "2x2,1x1,2x2", "4x2,1x1,1x1", "2x1,1x2,1x1"}
	for {
		w := 1 + rng.Intn(70)
		h := 1 + rng.Intn(70)
		if rng.Intn(4) == 0 {
			w = 1 + rng.Intn(300)
		}
		gray := rng.Intn(5) == 0
		ch := 3
		if gray {
			ch = 1
		}
		kind := kinds[rng.Intn(len(kinds))]
		pnm := synthImage(kind, w, h, ch, rng)
		if rng.Intn(8) == 0 {
			var buf bytes.Buffer
			q := 1 + rng.Intn(100)
			if err := stdjpeg.Encode(&buf, pnmToImage(pnm), &stdjpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes(), fmt.Sprintf("%s %dx%d image/jpeg q%d", kind, w, h, q)
		}
		args := []string{"-quality", fmt.Sprint([]int{1, 10, 50, 75, 90, 95, 100}[rng.Intn(7)])}
		if !gray {
			args = append(args, "-sample", samplings[rng.Intn(len(samplings))])
			if rng.Intn(6) == 0 {
				args = append(args, "-grayscale")
			}
			if rng.Intn(8) == 0 {
				args = append(args, "-rgb")
			}
		}
		if rng.Intn(4) == 0 {
			g := gray || strings.Contains(strings.Join(args, " "), "-grayscale")
			scripts := scanScripts(g)
			f, err := os.CreateTemp(t.TempDir(), "scans")
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(scripts[rng.Intn(len(scripts))])
			f.Close()
			args = append(args, "-scans", f.Name())
		} else if rng.Intn(2) == 0 {
			args = append(args, "-progressive")
		} else if rng.Intn(3) == 0 {
			args = append(args, "-optimize")
		}
		if rng.Intn(3) == 0 {
			args = append(args, "-restart", fmt.Sprint(rng.Intn(4)))
		}
		if rng.Intn(3) == 0 {
			args = append(args, "-arithmetic")
		}
		jpg, err := runTool(pnm, "cjpeg", args...)
		if err != nil {
			continue // e.g. too many blocks per MCU for this sampling
		}
		return jpg, fmt.Sprintf("%s %dx%d cjpeg %s", kind, w, h, strings.Join(args, " "))
	}
}

// TestLiveDjpeg is a development test: it encodes many random pictures and
// compares the decoder (in libjpeg-turbo 2.x smoothing mode, matching
// Debian 12's djpeg 2.1.5) with `djpeg -pnm` run live. It is skipped when
// cjpeg/djpeg (Debian package libjpeg-turbo-progs) are absent.
func TestLiveDjpeg(t *testing.T) {
	if !haveTool("djpeg") || !haveTool("cjpeg") {
		t.Skip("djpeg/cjpeg not on PATH (apt-get install libjpeg-turbo-progs); skipping live comparison")
	}
	n := liveCount(400, 40)
	rng := rand.New(rand.NewSource(liveSeed(1)))
	fails := 0
	for i := 0; i < n; i++ {
		jpg, desc := randomJPEG(t, rng)
		ref, err := runTool(jpg, "djpeg", "-pnm")
		if err == nil {
			err = compareRef(jpg, ref, decodeLegacy)
		}
		if err != nil {
			fails++
			t.Errorf("%s: %v", desc, err)
			if fails > 5 {
				t.FailNow()
			}
		}
	}
}

// liveCount returns the number of random files for a live test:
// JPEG_LIVE_N if set, else def (short in -short mode).
func liveCount(def, short int) int {
	if n, err := strconv.Atoi(os.Getenv("JPEG_LIVE_N")); err == nil {
		return n
	}
	if testing.Short() {
		return short
	}
	return def
}

// liveSeed returns JPEG_LIVE_SEED if set, else def.
func liveSeed(def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv("JPEG_LIVE_SEED"), 10, 64); err == nil {
		return n
	}
	return def
}

// pillowPython returns a Python interpreter that can import PIL: the one
// named by JPEG_PILLOW_PYTHON, else python3 from PATH.
func pillowPython() string {
	for _, py := range []string{os.Getenv("JPEG_PILLOW_PYTHON"), "python3"} {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", "import PIL.Image").Run() == nil {
			return py
		}
	}
	return ""
}

// pillowDecodeScript decodes stdin with Pillow and writes a PNM (CMYK is
// re-inverted to libjpeg's raw samples, see the package documentation).
const pillowDecodeScript = `
import sys, io
from PIL import Image
im = Image.open(io.BytesIO(sys.stdin.buffer.read()))
im.load()
raw = im.tobytes()
magic = {"L": "P5", "RGB": "P6", "CMYK": "P4CMYK"}[im.mode]
if im.mode == "CMYK":
    raw = bytes(255 - b for b in raw)
sys.stdout.buffer.write(b"%s\n%d %d\n255\n" % (magic.encode(), im.size[0], im.size[1]) + raw)
`

// TestLivePillow compares Decode (libjpeg-turbo 3.x behaviour) with Pillow
// on random files. Skipped unless cjpeg and a Python with Pillow exist
// (set JPEG_PILLOW_PYTHON to choose the interpreter).
func TestLivePillow(t *testing.T) {
	py := pillowPython()
	if py == "" || !haveTool("cjpeg") {
		t.Skip("no cjpeg or no Python with Pillow (set JPEG_PILLOW_PYTHON); skipping")
	}
	n := liveCount(150, 20)
	rng := rand.New(rand.NewSource(liveSeed(2)))
	fails := 0
	for i := 0; i < n; i++ {
		jpg, desc := randomJPEG(t, rng)
		ref, err := runTool(jpg, py, "-c", pillowDecodeScript)
		if err == nil {
			err = compareRef(jpg, ref, Decode)
		}
		if err != nil {
			fails++
			t.Errorf("%s: %v", desc, err)
			if fails > 5 {
				t.FailNow()
			}
		}
	}
}

// compareRef compares the decoder's output with a PNM reference.
func compareRef(jpg, ref []byte, decode func(io.Reader) (image.Image, error)) error {
	rw, rh, rch, rpix, err := readPNM(ref)
	if err != nil {
		return err
	}
	img, err := decode(bytes.NewReader(jpg))
	if err != nil {
		return fmt.Errorf("Decode: %v", err)
	}
	w, h, ch, pix := samples(img)
	if w != rw || h != rh || ch != rch {
		return fmt.Errorf("got %dx%dx%d, reference %dx%dx%d", w, h, ch, rw, rh, rch)
	}
	if d := diffCount(pix, rpix); d != 0 {
		first := 0
		for first < len(pix) && pix[first] == rpix[first] {
			first++
		}
		return fmt.Errorf("%d differing bytes (first at sample %d: pixel (%d,%d) ch %d got %d want %d)",
			d, first, (first/ch)%w, (first/ch)/w, first%ch, pix[first], rpix[first])
	}
	return nil
}

// scanScripts returns cjpeg -scans scripts: incomplete progressions (which
// trigger libjpeg's block smoothing), successive approximation, and
// multi-scan sequential files.
func scanScripts(gray bool) []string {
	if gray {
		return []string{
			"0: 0-0, 0, 0;",
			"0: 0-0, 0, 1; 0: 1-5, 0, 2; 0: 6-63, 0, 0;",
			"0: 0-0, 0, 2; 0: 1-9, 0, 0; 0: 0-0, 2, 1;",
			"0: 0-0, 0, 0; 0: 1-2, 0, 1; 0: 3-63, 0, 0; 0: 1-2, 1, 0;",
			"0: 0-63, 0, 0;",
		}
	}
	return []string{
		"0,1,2: 0-0, 0, 0;",
		"0,1,2: 0-0, 0, 1; 0: 1-5, 0, 2; 1: 1-63, 0, 1; 2: 1-63, 0, 0;",
		"0,1,2: 0-0, 0, 1; 0: 1-63, 0, 0; 1: 1-63, 0, 0; 2: 1-63, 0, 0; 0,1,2: 0-0, 1, 0;",
		"0: 0-0, 0, 0; 1: 0-0, 0, 0; 2: 0-0, 0, 0; 0: 1-63, 0, 0;",
		"0,1,2: 0-0, 0, 0; 0: 1-63, 0, 2; 0: 1-63, 2, 1; 0: 1-63, 1, 0; 1: 1-63, 0, 0; 2: 1-63, 0, 0;",
		"0: 0-63, 0, 0; 1: 0-63, 0, 0; 2: 0-63, 0, 0;",
		"0,1: 0-63, 0, 0; 2: 0-63, 0, 0;",
		"2: 0-63, 0, 0; 0,1: 0-63, 0, 0;",
		"0,1,2: 0-0, 0, 0; 0: 1-9, 0, 0;",
	}
}
