package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A WebDriver client, just what the page's browser test needs: chromedriver's W3C WebDriver
// HTTP API (https://www.w3.org/TR/webdriver2/) spoken with net/http, so the test needs no
// module beyond the standard library. chromedriver listens on 127.0.0.1 only.

// webElementKey is the W3C key of an element reference.
const webElementKey = "element-6066-11e4-a52e-4f735466cecf"

// browserPaths finds chromedriver and Chromium: QWEN3VL_CHROMEDRIVER and QWEN3VL_CHROMIUM,
// else chromedriver and chromium (Debian's packages chromium-driver and chromium) on $PATH.
func browserPaths() (driver, browser string, err error) {
	driver = os.Getenv("QWEN3VL_CHROMEDRIVER")
	if driver == "" {
		if driver, err = exec.LookPath("chromedriver"); err != nil {
			return "", "", fmt.Errorf("no chromedriver on $PATH (QWEN3VL_CHROMEDRIVER unset)")
		}
	}
	browser = os.Getenv("QWEN3VL_CHROMIUM")
	if browser == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if browser, err = exec.LookPath(name); err == nil {
				break
			}
		}
		if err != nil {
			return "", "", fmt.Errorf("no chromium, chromium-browser or google-chrome on $PATH (QWEN3VL_CHROMIUM unset)")
		}
	}
	return driver, browser, nil
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// webDriver is one browser session.
type webDriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT of chromedriver
	session string
	client  *http.Client
}

// startBrowser starts chromedriver and a headless Chromium session whose downloads go to
// downloads; both stop when the test ends.
func startBrowser(t *testing.T, driverPath, browserPath, downloads string) *webDriver {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(driverPath, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", driverPath, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("chromedriver's log:\n%s", log.String())
		}
	})
	d := &webDriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 2 * time.Minute}}
	waitFor(t, 20*time.Second, "chromedriver to answer /status", func() bool {
		var st struct {
			Ready bool `json:"ready"`
		}
		return d.call("GET", "/status", nil, &st) == nil && st.Ready
	})
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": browserPath,
			"args": []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
				"--window-size=1280,1000", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
				"--proxy-server=direct://", "--proxy-bypass-list=*"},
			"prefs": map[string]any{
				"download.default_directory":                                 downloads,
				"download.prompt_for_download":                               false,
				"safebrowsing.enabled":                                       false,
				"profile.default_content_setting_values.automatic_downloads": 1,
			},
		},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call("POST", "/session", caps, &sess); err != nil {
		t.Fatalf("a Chromium session: %v", err)
	}
	d.session = sess.SessionID
	t.Cleanup(func() { d.call("DELETE", "/session/"+d.session, nil, nil) })
	return d
}

// call sends one WebDriver command and decodes its "value" into out.
func (d *webDriver) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d, not JSON: %.200s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// do is call in the session, failing the test on an error.
func (d *webDriver) do(method, path string, body, out any) {
	d.t.Helper()
	if err := d.call(method, "/session/"+d.session+path, body, out); err != nil {
		d.t.Fatal(err)
	}
}

func (d *webDriver) navigate(url string) { d.do("POST", "/url", map[string]string{"url": url}, nil) }

// element finds the element of a CSS selector.
func (d *webDriver) element(css string) string {
	d.t.Helper()
	var ref map[string]string
	d.do("POST", "/element", map[string]string{"using": "css selector", "value": css}, &ref)
	return ref[webElementKey]
}

// sendKeys types text into an element (for a file input: the path of the file to choose).
func (d *webDriver) sendKeys(css, text string) {
	d.do("POST", "/element/"+d.element(css)+"/value", map[string]string{"text": text}, nil)
}

func (d *webDriver) click(css string) {
	d.do("POST", "/element/"+d.element(css)+"/click", map[string]any{}, nil)
}

// run executes script (a function body; a returned promise is awaited) and decodes its value
// into out.
func (d *webDriver) run(out any, script string, args ...any) {
	d.t.Helper()
	if args == nil {
		args = []any{}
	}
	d.do("POST", "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// text is the value of a JavaScript expression that is a string.
func (d *webDriver) text(expr string) string {
	d.t.Helper()
	var s string
	d.run(&s, "return String("+expr+");")
	return s
}

// waitUntil polls a JavaScript condition.
func (d *webDriver) waitUntil(timeout time.Duration, what, cond string) {
	d.t.Helper()
	waitFor(d.t, timeout, what, func() bool {
		var ok bool
		d.run(&ok, "return Boolean("+cond+");")
		return ok
	})
}

// screenshot is a PNG of the viewport.
func (d *webDriver) screenshot() []byte {
	d.t.Helper()
	var b64 string
	d.do("GET", "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		d.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// waitFor polls cond every 50 ms until it holds or the time is up (a test failure naming what).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
