package hub

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressBar draws a one-line download progress bar, redrawn in place with "\r":
//
//	Qwen/Qwen3-VL-2B-Instruct  312.4 MiB / 812.0 MiB  38%  24.1 MiB/s  ETA 21s
//
// The rate counts only the bytes of this session (not those resumed from an earlier one).
// Redraws are throttled to a few per second. A nil *progressBar does nothing, so callers
// need not check whether progress is enabled.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    int64 // bytes expected in all
	done     int64 // bytes present, including resumed ones
	base     int64 // bytes present when the bar started
	start    time.Time
	lastDraw time.Time
	width    int // length of the last line drawn, to blank leftovers
	now      func() time.Time
	finished bool
}

// drawEvery is the minimum time between two redraws.
const drawEvery = 200 * time.Millisecond

// newProgressBar returns a bar writing to w, or nil if w is nil. already bytes of total are
// present from an earlier session.
func newProgressBar(w io.Writer, label string, total, already int64) *progressBar {
	if w == nil {
		return nil
	}
	p := &progressBar{w: w, label: label, total: total, done: already, base: already, now: time.Now}
	p.start = p.now()
	return p
}

// Add records n more bytes and redraws if enough time has passed.
func (p *progressBar) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if t := p.now(); t.Sub(p.lastDraw) >= drawEvery {
		p.lastDraw = t
		p.draw(p.line(t))
	}
}

// Finish draws the final state and ends the line. Calling it again does nothing.
func (p *progressBar) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw(p.line(p.now()))
	fmt.Fprint(p.w, "\n")
}

// draw writes line over the previous one.
func (p *progressBar) draw(line string) {
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprint(p.w, "\r"+line+pad)
}

// line renders the bar's text at time t.
func (p *progressBar) line(t time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s / %s", p.label, formatBytes(p.done), formatBytes(p.total))
	if p.total > 0 {
		fmt.Fprintf(&b, "  %3d%%", p.done*100/p.total)
	}
	elapsed := t.Sub(p.start).Seconds()
	if elapsed > 0 && p.done > p.base {
		rate := float64(p.done-p.base) / elapsed
		fmt.Fprintf(&b, "  %s/s", formatBytes(int64(rate)))
		if left := p.total - p.done; left > 0 && rate > 0 {
			fmt.Fprintf(&b, "  ETA %s", formatDuration(time.Duration(float64(left)/rate*float64(time.Second))))
		}
	}
	return b.String()
}

// formatBytes renders n in binary units with one decimal ("812.0 MiB").
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

// formatDuration renders d rounded to seconds as "21s", "3m05s" or "1h02m".
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
