package imageproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// ErrFFmpegNotFound is returned (wrapped) when a video file needs ffmpeg
// and ffprobe but they are not on the PATH.
var ErrFFmpegNotFound = errors.New("ffmpeg and ffprobe are needed to read video files; install FFmpeg " +
	"(Debian/Ubuntu: sudo apt-get install ffmpeg; Fedora: sudo dnf install ffmpeg; macOS: brew install ffmpeg; " +
	"Windows: winget install ffmpeg) and make sure both are on the PATH, or give a folder of frames or an animated GIF instead")

// ffmpegSource decodes a video with the ffmpeg command: metadata from
// ffprobe (the stream header and a scan of its packets, as torchcodec's
// exact mode does), frames as raw RGB on a pipe, only the sampled ones.
type ffmpegSource struct {
	path     string
	ffmpeg   string
	parent   context.Context // the caller's: cancelling it kills ffmpeg
	w, h     int
	in       sourceInfo
	ctx      context.Context
	cancel   context.CancelFunc
	cmd      *exec.Cmd
	stdout   io.ReadCloser
	r        *bufio.Reader
	stderr   *limitedBuffer
	want     []int // sorted unique indices ffmpeg emits, in order
	pos      int   // position in want of the next frame on the pipe
	cur      *RGB
	curIdx   int
	sync     int // index in passthroughArgs
	closed   bool
	closeErr error
}

func lookFFmpeg() (ffmpeg, ffprobe string, err error) {
	ffmpeg, err1 := exec.LookPath("ffmpeg")
	ffprobe, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		return "", "", ErrFFmpegNotFound
	}
	return ffmpeg, ffprobe, nil
}

// probeInfo is what one ffprobe run reports on the first video stream: its
// header (size, time base, rate, rotation) and a scan of its packets.
type probeInfo struct {
	width, height    int
	timeBase, rate   string
	rotation         float64
	packets          int   // packets not flagged for discarding
	minPts, maxEnd   int64 // smallest pts, largest pts+duration (time base units)
	hasPts, isStream bool
}

func openFFmpeg(ctx context.Context, path string, opts VideoOptions) (*ffmpegSource, error) {
	ffmpeg, ffprobe, err := lookFFmpeg()
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	p, err := probe(ctx, ffprobe, path)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("imageproc: %s: %w", path, err)
	}
	if !p.isStream {
		return nil, fmt.Errorf("imageproc: %s: no video stream", path)
	}
	w, h := p.width, p.height
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("imageproc: %s: video stream has an empty size %dx%d", path, w, h)
	}
	if q := math.Mod(math.Abs(math.Round(p.rotation)), 180); q == 90 {
		w, h = h, w // ffmpeg turns the frames upright (autorotate), as torchcodec does
	}
	if px := int64(w) * int64(h); px > opts.MaxDecodePixels {
		return nil, fmt.Errorf("imageproc: %s: %w: frames are %dx%d = %d pixels, over the limit of %d", path, ErrTooLarge, w, h, px, opts.MaxDecodePixels)
	}
	if p.packets == 0 {
		return nil, fmt.Errorf("imageproc: %s: %w", path, ErrNoFrames)
	}
	// torchcodec's exact mode (the reference's decoder): frames counted by a packet scan,
	// average rate = frames / (largest pts+duration − smallest pts), else the header's
	// r_frame_rate.
	in := sourceInfo{total: p.packets}
	if tn, td, ok := parseRational(p.timeBase); ok && tn > 0 && p.hasPts && p.maxEnd > p.minPts {
		span := float64(p.maxEnd-p.minPts) * float64(tn) / float64(td)
		in.duration = span
		in.fps = float64(p.packets) / span
	}
	if !(in.fps > 0) || math.IsInf(in.fps, 0) {
		in.fps = 0
		if n, d, ok := parseRational(p.rate); ok && n > 0 {
			in.fps = float64(n) / float64(d)
		}
	}
	return &ffmpegSource{path: path, ffmpeg: ffmpeg, parent: ctx, w: w, h: h, in: in, curIdx: -1}, nil
}

func parseRational(s string) (num, den int64, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		b = "1"
	}
	n, err1 := strconv.ParseInt(a, 10, 64)
	d, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || d <= 0 || n < 0 {
		return 0, 0, false
	}
	return n, d, true
}

// probe runs ffprobe once on the first video stream, reading its "compact"
// output line by line as it comes (one line per packet, then the stream's),
// so memory does not grow with the video. Cancelling ctx kills ffprobe.
func probe(ctx context.Context, ffprobe, path string) (probeInfo, error) {
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,time_base,r_frame_rate:stream_tags=rotate:stream_side_data=rotation:packet=pts,duration,flags",
		"-of", "compact", "--", path)
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return probeInfo{}, err
	}
	if err := cmd.Start(); err != nil {
		return probeInfo{}, fmt.Errorf("ffprobe: %w", err)
	}
	p := probeInfo{minPts: math.MaxInt64, maxEnd: math.MinInt64}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		section, rest, _ := strings.Cut(sc.Text(), "|")
		kv := map[string]string{}
		for _, f := range strings.Split(rest, "|") {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		switch section {
		case "packet":
			if strings.Contains(kv["flags"], "D") {
				continue // AV_PKT_FLAG_DISCARD: torchcodec skips these
			}
			p.packets++
			pts, err := strconv.ParseInt(kv["pts"], 10, 64)
			if err != nil {
				continue // "N/A"
			}
			dur, _ := strconv.ParseInt(kv["duration"], 10, 64)
			p.hasPts = true
			p.minPts = min(p.minPts, pts)
			p.maxEnd = max(p.maxEnd, pts+dur)
		case "stream":
			p.isStream = true
			p.width, _ = strconv.Atoi(kv["width"])
			p.height, _ = strconv.Atoi(kv["height"])
			p.timeBase, p.rate = kv["time_base"], kv["r_frame_rate"]
			if r, err := strconv.ParseFloat(kv["rotation"], 64); err == nil {
				p.rotation = r
			} else if r, err := strconv.ParseFloat(kv["tag:rotate"], 64); err == nil {
				p.rotation = r
			}
		}
	}
	scanErr := sc.Err()
	if scanErr != nil {
		_ = cmd.Process.Kill()
	}
	if err := cmd.Wait(); err != nil {
		return probeInfo{}, fmt.Errorf("not a readable video: ffprobe: %v: %s", err, stderr.String())
	}
	if scanErr != nil {
		return probeInfo{}, fmt.Errorf("ffprobe output: %w", scanErr)
	}
	return p, nil
}

func (s *ffmpegSource) info() sourceInfo { return s.in }

// passthroughArgs are the ways, newest first, to ask ffmpeg for every
// decoded frame unchanged (no frame dropped or duplicated): -fps_mode from
// FFmpeg 5.1 on, -vsync before (FFmpeg 4.x, e.g. Ubuntu 22.04).
var passthroughArgs = [][]string{{"-fps_mode", "passthrough"}, {"-vsync", "passthrough"}}

// prepare starts ffmpeg with a select filter that passes only the frames
// at indices (frame numbers count the decoded frames in presentation order).
func (s *ffmpegSource) prepare(indices []int) error {
	if s.cmd != nil {
		return errors.New("ffmpeg already started")
	}
	s.want = indices
	return s.start()
}

func (s *ffmpegSource) start() error {
	args := []string{"-v", "error", "-nostdin", "-i", s.path, "-map", "0:v:0", "-an", "-sn", "-dn"}
	if len(s.want) < s.in.total {
		args = append(args, "-vf", "select="+selectExpr(s.want))
	}
	args = append(args, passthroughArgs[s.sync]...)
	args = append(args, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	s.ctx, s.cancel = context.WithCancel(s.parent)
	s.cmd = exec.CommandContext(s.ctx, s.ffmpeg, args...)
	s.stderr = &limitedBuffer{}
	s.cmd.Stderr = s.stderr
	var err error
	if s.stdout, err = s.cmd.StdoutPipe(); err != nil {
		return err
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	s.r = bufio.NewReaderSize(s.stdout, 1<<20)
	return nil
}

// selectExpr is an ffmpeg expression that is non-zero exactly for the
// frame numbers n in indices: a sum of eq(n,i) terms, nested as a balanced
// tree (ffmpeg's expression parser limits the nesting depth, which a flat
// sum of hundreds of terms exceeds). Commas are escaped for the filter
// graph parser.
func selectExpr(indices []int) string {
	if len(indices) == 1 {
		return fmt.Sprintf(`eq(n\,%d)`, indices[0])
	}
	h := len(indices) / 2
	return "(" + selectExpr(indices[:h]) + "+" + selectExpr(indices[h:]) + ")"
}

func (s *ffmpegSource) frame(i int) (*RGB, error) {
	if s.closed {
		return nil, errSourceClosed
	}
	if err := s.parent.Err(); err != nil {
		return nil, err
	}
	if i == s.curIdx && s.cur != nil {
		return s.cur, nil
	}
	if s.cmd == nil {
		return nil, errors.New("ffmpeg not started")
	}
	for s.pos < len(s.want) && s.want[s.pos] < i {
		// Not asked for (cannot happen when the caller follows prepare).
		if _, err := s.r.Discard(3 * s.w * s.h); err != nil {
			if err := s.pipeErr(err); err != errRetry {
				return nil, err
			}
			return s.frame(i)
		}
		s.pos++
	}
	if s.pos >= len(s.want) || s.want[s.pos] != i {
		return nil, fmt.Errorf("frame %d was not prepared", i)
	}
	out := NewRGB(s.w, s.h)
	if _, err := io.ReadFull(s.r, out.Pix); err != nil {
		if err := s.pipeErr(err); err != errRetry {
			return nil, err
		}
		return s.frame(i)
	}
	s.pos++
	s.cur, s.curIdx = out, i
	return out, nil
}

// errRetry tells frame that ffmpeg was restarted with older options.
var errRetry = errors.New("retry")

// pipeErr explains a short read: ffmpeg refused an option it is too old
// for (then it is restarted with the next passthroughArgs and errRetry is
// returned), failed (corrupt data) or decoded fewer frames than ffprobe
// counted packets.
func (s *ffmpegSource) pipeErr(err error) error {
	werr := s.cmd.Wait()
	s.cancel()
	if err := s.parent.Err(); err != nil {
		s.closed = true
		return err
	}
	msg := strings.TrimSpace(s.stderr.String())
	flag := strings.TrimPrefix(passthroughArgs[s.sync][0], "-")
	if werr != nil && s.pos == 0 && s.cur == nil && s.sync+1 < len(passthroughArgs) &&
		strings.Contains(msg, "Unrecognized option '"+flag+"'") {
		s.sync++
		s.cmd = nil
		if serr := s.start(); serr != nil {
			s.closed = true
			return serr
		}
		return errRetry
	}
	s.closed = true
	if werr != nil {
		return fmt.Errorf("ffmpeg failed while decoding frame %d: %v: %s", s.want[s.pos], werr, msg)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("ffmpeg decoded fewer frames than the %d packets ffprobe counted (stopped before frame %d) %s", s.in.total, s.want[s.pos], msg)
	}
	return fmt.Errorf("reading ffmpeg's output: %w", err)
}

func (s *ffmpegSource) close() error {
	if s.closed || s.cmd == nil {
		s.closed = true
		return s.closeErr
	}
	s.closed = true
	done := s.pos >= len(s.want)
	if done {
		// Let ffmpeg finish (the last sampled frame is the last frame).
		_, _ = io.Copy(io.Discard, s.r)
	}
	s.cancel()
	err := s.cmd.Wait()
	if done && err != nil && s.ctx.Err() == nil {
		s.closeErr = fmt.Errorf("ffmpeg: %v: %s", err, strings.TrimSpace(s.stderr.String()))
	}
	return s.closeErr
}

// limitedBuffer keeps the first 4 KiB written to it (a process's stderr).
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
