package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"math/rand"
	"os/exec"
	"strconv"
)

// readPNM parses a binary PGM (P5), PPM (P6) or the "P4CMYK" raw CMYK dump
// used by the fixtures (see testdata/jpeg/README.md): it returns width,
// height, channel count and samples.
func readPNM(b []byte) (w, h, ch int, pix []byte, err error) {
	var fields []string
	i := 0
	for len(fields) < 4 && i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		if i < len(b) && b[i] == '#' {
			for i < len(b) && b[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		for j < len(b) && !(b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t') {
			j++
		}
		fields = append(fields, string(b[i:j]))
		i = j
	}
	if len(fields) < 4 {
		return 0, 0, 0, nil, fmt.Errorf("short PNM header")
	}
	i++ // single whitespace after maxval
	switch fields[0] {
	case "P5":
		ch = 1
	case "P6":
		ch = 3
	case "P4CMYK": // our own raw CMYK format
		ch = 4
	default:
		return 0, 0, 0, nil, fmt.Errorf("unknown PNM magic %q", fields[0])
	}
	w, _ = strconv.Atoi(fields[1])
	h, _ = strconv.Atoi(fields[2])
	pix = b[i:]
	if len(pix) != w*h*ch {
		return 0, 0, 0, nil, fmt.Errorf("PNM size mismatch: %d bytes for %dx%dx%d", len(pix), w, h, ch)
	}
	return w, h, ch, pix, nil
}

// samples returns the decoded image in PNM sample order (gray, RGB or CMYK).
func samples(img image.Image) (w, h, ch int, pix []byte) {
	switch m := img.(type) {
	case *image.Gray:
		w, h = m.Rect.Dx(), m.Rect.Dy()
		pix = make([]byte, 0, w*h)
		for y := 0; y < h; y++ {
			pix = append(pix, m.Pix[y*m.Stride:y*m.Stride+w]...)
		}
		return w, h, 1, pix
	case *image.RGBA:
		w, h = m.Rect.Dx(), m.Rect.Dy()
		pix = make([]byte, 0, w*h*3)
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				pix = append(pix, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
		return w, h, 3, pix
	case *image.CMYK:
		w, h = m.Rect.Dx(), m.Rect.Dy()
		pix = make([]byte, 0, w*h*4)
		for y := 0; y < h; y++ {
			pix = append(pix, m.Pix[y*m.Stride:y*m.Stride+4*w]...)
		}
		return w, h, 4, pix
	}
	panic("unexpected image type")
}

// diffCount counts differing bytes.
func diffCount(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// synthImage renders a test picture of the given kind as PNM bytes.
func synthImage(kind string, w, h, ch int, rng *rand.Rand) []byte {
	var buf bytes.Buffer
	if ch == 1 {
		fmt.Fprintf(&buf, "P5\n%d %d\n255\n", w, h)
	} else {
		fmt.Fprintf(&buf, "P6\n%d %d\n255\n", w, h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < ch; c++ {
				var v int
				switch kind {
				case "gradient":
					v = (x*255/max(w-1, 1) + y*128/max(h-1, 1) + c*85) % 256
				case "noise":
					v = rng.Intn(256)
				case "edges":
					if ((x/7)+(y/5)+c)%2 == 0 {
						v = 250
					} else {
						v = 5
					}
					if (x+y)%13 == 0 {
						v = 128
					}
				default: // "mix": smooth + noise + saturated colours
					v = (x*3 + y*5 + c*60) % 256
					v += rng.Intn(40) - 20
					if (x/16+y/16)%3 == c%3 {
						v = 255
					}
					v = max(0, min(255, v))
				}
				buf.WriteByte(byte(v))
			}
		}
	}
	return buf.Bytes()
}

func haveTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// runTool runs a command with stdin and returns its stdout.
func runTool(stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		// djpeg exits with status 2 after mere warnings (e.g. a missing
		// EOI); its output is still libjpeg's image.
		if ee, ok := err.(*exec.ExitError); ok && name == "djpeg" && ee.ExitCode() == 2 && out.Len() > 0 {
			return out.Bytes(), nil
		}
		return nil, fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return out.Bytes(), nil
}
