package textjoin

import (
	"math"
	"strconv"
)

// Video is one video item: its patch grid and the time in seconds of each temporal group
// (len(Timestamps) == Grid.T). imageproc.GroupTimestamps computes them from the sampled frames
// (and imageproc's video preprocessing returns them).
type Video struct {
	Grid       Grid      `json:"grid"`
	Timestamps []float64 `json:"timestamps"`
}

// TimestampText is the text the processor puts before a temporal group: f"<{t:.1f} seconds>".
func TimestampText(seconds float64) string {
	return "<" + formatFixed1(seconds) + " seconds>"
}

// formatFixed1 is Python's format(x, ".1f"): the binary value correctly rounded to one decimal,
// exact ties to even (0.25 → "0.2", 0.125 → "0.1"), "-0.0" kept, and Python's spellings of
// the non-finite values. strconv rounds the same way.
func formatFixed1(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}
