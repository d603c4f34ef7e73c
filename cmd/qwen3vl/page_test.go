package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qwen3vl/qwen3vl/internal/testimg"
)

var pageScreenshot = flag.Bool("page.screenshot", false, "TestPageInBrowser: write the page's screenshot to docs/page.png")

// TestPageInBrowser drives the page of `serve` in headless Chromium, against the command
// serving random:tiny@7 with -chat on 127.0.0.1: an image chosen with the file input → the
// explain picture and the feature map, each the bytes the API answers → the features
// downloaded, the API's safetensors → a question answered, streamed in pieces; then bad input
// through the page (a dropped text file, a decompression bomb, a huge paste), each shown with
// the API's own status, code and message. Skipped without chromedriver and Chromium (Debian's
// chromium-driver and chromium); QWEN3VL_PAGETEST_REQUIRE=1 makes that a failure (CI, where
// .ci/run installed them). go test ./cmd/qwen3vl -run TestPageInBrowser -page.screenshot
// rewrites docs/page.png.
func TestPageInBrowser(t *testing.T) {
	driver, browser, err := browserPaths()
	if err != nil {
		if os.Getenv("QWEN3VL_PAGETEST_REQUIRE") != "" {
			t.Fatalf("QWEN3VL_PAGETEST_REQUIRE is set and %v", err)
		}
		t.Skipf("no browser for the page test: %v; install Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver) or set QWEN3VL_CHROMEDRIVER and QWEN3VL_CHROMIUM", err)
	}

	// The command, serving on 127.0.0.1 with a 1 MiB body limit.
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		served <- run(ctx, []string{"serve", "-addr", fmt.Sprintf("127.0.0.1:%d", port),
			"-chat", "-model", "random:tiny@7", "-tokenizer", "../../testdata/tokenizer/qwen3vl",
			"-max-body", "1M", "-max-pixels", "200704", "-chat-max-tokens", "24", "-threads", "2",
			"-drain-delay", "0", "-shutdown-timeout", "5s", "-log-level", "error"}, io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-served:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20 s")
		}
	})
	waitFor(t, 2*time.Minute, "serve's /readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	downloads := t.TempDir()
	d := startBrowser(t, driver, browser, downloads)
	d.navigate(base + "/")
	d.waitUntil(30*time.Second, "the page to read /v1/models", "document.body.dataset.ready === '1'")
	if got := d.text("document.getElementById('model').textContent"); !strings.HasPrefix(got, "model random:tiny@7 · chat · synthetic random weights") {
		t.Errorf("the page's model line is %q", got)
	}

	// Upload → pictures.
	imagePath, err := filepath.Abs("../../testdata/imageproc/inputs/grad_400x300.png")
	if err != nil {
		t.Fatal(err)
	}
	imageBytes, err := os.ReadFile(imagePath)
	if err != nil {
		t.Fatal(err)
	}
	d.sendKeys("#file", imagePath)
	d.waitUntil(2*time.Minute, "the pictures", "(document.getElementById('status').textContent === 'grad_400x300.png: drawn.' && document.getElementById('explain').complete && document.getElementById('features').complete) || !document.getElementById('error').hidden")
	if d.text("document.getElementById('error').hidden") != "true" {
		t.Fatalf("the page shows an error: %s", d.text("document.getElementById('error').textContent"))
	}
	for _, id := range []string{"explain", "features"} {
		if w := d.text("document.getElementById('" + id + "').naturalWidth"); w == "0" {
			t.Errorf("the %s picture did not load", id)
		}
	}

	// The pictures saved from the page are the API's answers, byte for byte.
	for _, c := range []struct{ link, file, route string }{
		{"#save-explain", "explain.png", "/v1/explain.png"},
		{"#save-features", "features.png", "/v1/features.png"},
	} {
		d.click(c.link)
		got := waitDownload(t, downloads, c.file)
		want, status := postImage(t, base+c.route, "image/png", "grad_400x300.png", imageBytes)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.route, status, want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s saved from the page (%d bytes) is not what %s answers (%d bytes)", c.file, len(got), c.route, len(want))
		}
		if _, err := png.Decode(bytes.NewReader(got)); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
	}

	// Features downloaded: the safetensors of /v1/encode.
	d.click("#download")
	got := waitDownload(t, downloads, "features.safetensors")
	want, status := postImage(t, base+"/v1/encode", "application/octet-stream", "grad_400x300.png", imageBytes)
	if status != http.StatusOK {
		t.Fatalf("/v1/encode: %d %s", status, want)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("features.safetensors from the page (%d bytes) is not /v1/encode's answer (%d bytes)", len(got), len(want))
	}
	checkSafetensorsHeader(t, got, "pooler_output", "deepstack_features.0", "last_hidden_state", "grid_thw")

	// Ask: the answer streams in, piece by piece (each event of the stream one change of the
	// answer; how many arrive in one read is the network's business).
	d.run(nil, `window.pieces = 0;
new MutationObserver((records) => window.pieces += records.length).observe(document.getElementById('answer'), {childList: true, characterData: true, subtree: true});`)
	d.sendKeys("#question", "What is in the picture?")
	d.click("#ask-button")
	d.waitUntil(3*time.Minute, "the answer", "(document.body.dataset.answer || '').startsWith('done:') || document.body.dataset.answer === 'error'")
	if a := d.text("document.body.dataset.answer"); a == "error" {
		t.Fatalf("asking failed: %s", d.text("document.getElementById('error').textContent"))
	}
	answer := d.text("document.getElementById('answer').textContent")
	pieces := d.text("window.pieces")
	t.Logf("answer (%s, in %s changes of the answer): %q", d.text("document.body.dataset.answer"), pieces, answer)
	if answer == "" {
		t.Error("the answer is empty")
	}
	if meta := d.text("document.getElementById('answer-meta').textContent"); !regexp.MustCompile(`^[0-9]+ tokens, finish_reason (length|stop); the prompt was [0-9]+ tokens`).MatchString(meta) {
		t.Errorf("under the answer: %q, want its tokens and finish_reason", meta)
	}
	if pieces == "0" || pieces == "1" {
		t.Errorf("the answer came in %s piece(s), not streamed", pieces)
	}

	// The whole page in the screenshot: the window as tall as the document.
	var height int
	d.run(&height, "return document.documentElement.scrollHeight;")
	d.do("POST", "/window/rect", map[string]int{"width": 1280, "height": min(height+120, 4000)}, nil)
	shot := d.screenshot()
	if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if *pageScreenshot {
		if err := os.WriteFile("../../docs/page.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/page.png (%d bytes)", len(shot))
	}

	// An image pasted (a file on the clipboard) is drawn as well, after the screenshot.
	d.run(nil, `const b = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
const dt = new DataTransfer(); dt.items.add(new File([b], 'pasted.png', {type: 'image/png'}));
document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));`, base64.StdEncoding.EncodeToString(imageBytes))
	d.waitUntil(2*time.Minute, "the pictures of a pasted image", "(document.getElementById('status').textContent === 'pasted.png: drawn.' && document.getElementById('explain').complete) || !document.getElementById('error').hidden")
	if d.text("document.getElementById('error').hidden") != "true" {
		t.Fatalf("pasting an image: the page shows an error: %s", d.text("document.getElementById('error').textContent"))
	}

	// Bad input through the page: the API's own status, code and message, shown on the page.
	notImage := []byte("hello, this is not an image\n")
	bomb := testimg.PNGBomb(100000, 100000)
	cases := []struct {
		name   string
		script string // makes the page send the input
		want   func(shown string) error
	}{
		{"a text file dropped", `const f = new File([arguments[0]], 'notes.txt', {type: 'text/plain'});
const dt = new DataTransfer(); dt.items.add(f);
document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));`,
			apiMessage(t, base, "notes.txt", notImage)},
		{"a decompression bomb chosen", "", apiMessage(t, base, "bomb.png", bomb)},
		{"a huge paste", `const dt = new DataTransfer(); dt.setData('text/plain', 'x'.repeat(2 << 20));
document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));`,
			func(shown string) error {
				if !strings.HasPrefix(shown, "413 body_too_large: the body is ") || !strings.HasSuffix(shown, " bytes, over the body limit of 1 MiB") {
					return fmt.Errorf("want the API's 413 body_too_large message")
				}
				return nil
			}},
	}
	for _, c := range cases {
		d.run(nil, "document.getElementById('error').hidden = true; document.getElementById('error').textContent = '';")
		if c.script == "" {
			p := filepath.Join(t.TempDir(), "bomb.png")
			if err := os.WriteFile(p, bomb, 0o644); err != nil {
				t.Fatal(err)
			}
			d.sendKeys("#file", p)
		} else {
			d.run(nil, c.script, string(notImage))
		}
		d.waitUntil(time.Minute, c.name+": an error on the page", "document.body.dataset.busy === '0' && !document.getElementById('error').hidden")
		shown := d.text("document.getElementById('error').textContent")
		visible := d.text("document.getElementById('error').getBoundingClientRect().height > 0")
		t.Logf("%s: the page shows %q", c.name, shown)
		if err := c.want(shown); err != nil {
			t.Errorf("%s: the page shows %q: %v", c.name, shown, err)
		}
		if visible != "true" {
			t.Errorf("%s: the error box is not visible", c.name)
		}
	}
}

// apiMessage is a check that the page shows what the API answers an upload of data as file:
// "STATUS code: message".
func apiMessage(t *testing.T, base, file string, data []byte) func(string) error {
	t.Helper()
	body, status := postImage(t, base+"/v1/explain.png", "image/png", file, data)
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || status < 400 {
		t.Fatalf("%s: the API answered %d %.200s", file, status, body)
	}
	want := fmt.Sprintf("%d %s: %s", status, e.Error.Code, e.Error.Message)
	return func(shown string) error {
		if shown != want {
			return fmt.Errorf("want %q", want)
		}
		return nil
	}
}

// postImage posts data as the multipart file part "image" (as the page does) and returns the
// answer's body and status.
func postImage(t *testing.T, url, accept, file string, data []byte) ([]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("image", file)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", url, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, resp.StatusCode
}

// waitDownload waits for Chromium to finish downloading name into dir and returns its bytes
// (the file is removed, so that a later download of the same name is seen).
func waitDownload(t *testing.T, dir, name string) []byte {
	t.Helper()
	p := filepath.Join(dir, name)
	var data []byte
	waitFor(t, time.Minute, "the download of "+name, func() bool {
		if _, err := os.Stat(p + ".crdownload"); err == nil {
			return false
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			return false
		}
		data = b
		return true
	})
	os.Remove(p)
	return data
}

// checkSafetensorsHeader checks that a safetensors file's header names the tensors.
func checkSafetensorsHeader(t *testing.T, b []byte, names ...string) {
	t.Helper()
	if len(b) < 8 {
		t.Fatalf("safetensors of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		t.Fatalf("safetensors header of %d bytes in a file of %d", n, len(b))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatalf("safetensors header: %v", err)
	}
	for _, name := range names {
		if _, ok := header[name]; !ok {
			t.Errorf("the safetensors file has no %s", name)
		}
	}
}
