package imageproc

import (
	"bufio"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The memory measurement of docs/VIDEO.md. It is slow (it writes a 2000-frame folder and a
// 2000-frame video) and runs only when asked:
//
//	QWEN3VL_VIDEO_MEMTEST=1 go test ./imageproc/ -run TestVideoMemory -v -timeout 30m
//
// Each scenario runs in a child process (this test binary again), so its peak RSS (VmHWM)
// is its own.

const memFrames, memW, memH, memFPS = 2000, 640, 360, 30

func TestVideoMemory(t *testing.T) {
	if os.Getenv("QWEN3VL_VIDEO_MEMTEST") == "" {
		t.Skip("set QWEN3VL_VIDEO_MEMTEST=1 to run the memory measurement")
	}
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames")
	if err := os.Mkdir(frames, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	writeSyntheticFrames(t, frames)
	t.Logf("wrote %d frames of %dx%d in %v", memFrames, memW, memH, time.Since(start).Round(time.Millisecond))
	scenarios := []string{"folder-stream", "folder-load"}
	video := filepath.Join(dir, "long.mp4")
	if hasFFmpeg() {
		runFFmpeg(t, "-framerate", strconv.Itoa(memFPS), "-i", filepath.Join(frames, "f%05d.png"), "-c:v", "mpeg4", "-q:v", "3", video)
		scenarios = append(scenarios, "ffmpeg-stream", "ffmpeg-load")
	} else {
		t.Log("ffmpeg not on the PATH: video-file scenarios skipped")
	}
	whole := int64(memFrames) * memW * memH * 3
	t.Logf("the whole video decoded: %d frames × %dx%d × 3 = %.1f MiB", memFrames, memW, memH, float64(whole)/(1<<20))
	for _, run := range []struct{ budget, gogc string }{{"ckpt", ""}, {"ckpt", "10"}, {"1MiP", ""}, {"1MiP", "10"}} {
		for _, sc := range scenarios {
			path := frames
			if strings.HasPrefix(sc, "ffmpeg") {
				path = video
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestVideoMemoryChild$", "-test.v")
			cmd.Env = append(os.Environ(), "QWEN3VL_VIDEO_MEMCHILD="+sc, "QWEN3VL_VIDEO_MEMPATH="+path, "QWEN3VL_VIDEO_MEMBUDGET="+run.budget)
			if run.gogc != "" {
				cmd.Env = append(cmd.Env, "GOGC="+run.gogc)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sc, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if _, m, ok := strings.Cut(line, "MEMORY"); ok {
					gogc := run.gogc
					if gogc == "" {
						gogc = "100"
					}
					t.Logf("budget %-4s GOGC %-3s %s", run.budget, gogc, strings.TrimSpace(m))
				}
			}
		}
	}
}

// writeSyntheticFrames writes memFrames PNGs: a drifting gradient with a moving bar.
func writeSyntheticFrames(t *testing.T, dir string) {
	t.Helper()
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Bool
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			img := NewRGB(memW, memH)
			for {
				k := int(next.Add(1) - 1)
				if k >= memFrames {
					return
				}
				for y := range memH {
					for x := range memW {
						i := 3 * (y*memW + x)
						img.Pix[i] = uint8(x + k)
						img.Pix[i+1] = uint8(y)
						img.Pix[i+2] = uint8((x + y + 3*k) / 4)
						if (x-2*k)%memW >= 0 && (x-2*k+memW)%memW < 24 {
							img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 250, 20, 200
						}
					}
				}
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%05d.png", k)))
				if err == nil {
					err = enc.Encode(f, img)
					f.Close()
				}
				if err != nil {
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		t.Fatal("writing frames failed")
	}
}

// TestVideoMemoryChild is one scenario of TestVideoMemory (run in a child process).
func TestVideoMemoryChild(t *testing.T) {
	sc := os.Getenv("QWEN3VL_VIDEO_MEMCHILD")
	if sc == "" {
		t.Skip("child of TestVideoMemory")
	}
	path := os.Getenv("QWEN3VL_VIDEO_MEMPATH")
	opts := DefaultVideoOptions()
	opts.FramesFPS = memFPS
	if os.Getenv("QWEN3VL_VIDEO_MEMBUDGET") == "1MiP" {
		opts.MaxPixels = 1 << 20
	}
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			metrics.Read(live)
			if v := live[0].Value.Uint64(); v > peakLive.Load() {
				peakLive.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	var res *VideoResult
	var err error
	switch sc {
	case "folder-stream", "ffmpeg-stream":
		res, err = PreprocessVideoFile(context.Background(), path, opts)
	case "folder-load", "ffmpeg-load":
		var v *Video
		if v, err = LoadVideo(context.Background(), path, opts); err == nil {
			res, err = PreprocessVideo(v, opts)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	out := int64(len(res.Pixels)) * 4
	t.Logf("MEMORY %-13s | %d of %d frames, grid %v, %dx%d → %dx%d | output %6.1f MiB | peak live heap %6.1f MiB | peak heap %6.1f MiB | peak RSS %s | %v",
		sc, len(res.FrameIndices), res.TotalFrames, res.Grid, res.Width, res.Height, res.ResizedWidth, res.ResizedHeight,
		float64(out)/(1<<20), float64(peakLive.Load())/(1<<20), float64(peak.Load())/(1<<20), peakRSS(), elapsed.Round(time.Millisecond))
}

// peakRSS returns the process's VmHWM (Linux), or "n/a".
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err == nil {
				return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
			}
		}
	}
	return "n/a"
}
