package server

import "strings"

// stopCutter holds back streamed text that may be the start of a stop string, and cuts the
// answer before the first stop string, as OpenAI's API answers (the generation itself stops
// on the token that completes a stop string, whose text Hugging Face keeps).
type stopCutter struct {
	stops   []string
	all     strings.Builder // every piece so far
	sent    int             // bytes of all released
	stopped bool            // a stop string was found: nothing more is released
}

// add appends a piece and returns the text that is safe to release now: up to the first
// stop string, or up to the longest end of the text that could still begin one.
func (c *stopCutter) add(piece string) string {
	if c.stopped {
		return ""
	}
	c.all.WriteString(piece)
	s := c.all.String()
	if cut := firstStop(s, c.stops); cut >= 0 {
		c.stopped = true
		return c.release(s, cut)
	}
	return c.release(s, len(s)-pendingPrefix(s, c.stops))
}

// flush releases what is held back once the generation has ended without a stop string.
func (c *stopCutter) flush() string {
	if c.stopped {
		return ""
	}
	s := c.all.String()
	return c.release(s, len(s))
}

func (c *stopCutter) release(s string, upto int) string {
	if upto <= c.sent {
		return ""
	}
	out := s[c.sent:upto]
	c.sent = upto
	return out
}

// cutAtStop is the answer text up to its first stop string.
func cutAtStop(text string, stops []string) string {
	if cut := firstStop(text, stops); cut >= 0 {
		return text[:cut]
	}
	return text
}

// firstStop is the byte offset of the earliest stop string in s, or -1.
func firstStop(s string, stops []string) int {
	cut := -1
	for _, st := range stops {
		if i := strings.Index(s, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	return cut
}

// pendingPrefix is the length of the longest end of s that is a proper beginning of a stop
// string (it may yet become one). It starts where a stop string starts, so at a character
// boundary.
func pendingPrefix(s string, stops []string) int {
	n := 0
	for _, st := range stops {
		for k := min(len(st)-1, len(s)); k > n; k-- {
			if strings.HasSuffix(s, st[:k]) {
				n = k
				break
			}
		}
	}
	return n
}
