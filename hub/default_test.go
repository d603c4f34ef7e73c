package hub

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestResolveDefaultExplains: when DefaultModel cannot be had, ResolveDefault's error says it
// was the default and suggests -model DIR and random:PRESET, and still matches the sentinel.
// The same failure for a model the user named is reported plainly.
func TestResolveDefaultExplains(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, o *Options)
		want  error
		cause string // a substring of Resolve's own message, kept
	}{
		{
			name:  "hub unreachable",
			setup: func(t *testing.T, o *Options) { o.Endpoint = unreachable() },
			want:  ErrNetwork, cause: "could not reach " + unreachable(),
		},
		{
			// A resolver that finds no such host, as without a network.
			name: "DNS failure",
			setup: func(t *testing.T, o *Options) {
				o.Endpoint = DefaultEndpoint
				o.HTTPClient = &http.Client{Transport: &http.Transport{
					DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
						return nil, &net.DNSError{Err: "no such host", Name: "huggingface.co", IsNotFound: true}
					},
				}}
			},
			want: ErrNetwork, cause: "no such host",
		},
		{
			name:  "offline, not cached",
			setup: func(t *testing.T, o *Options) { o.Offline = true },
			want:  ErrNotCached, cause: "HF_HUB_OFFLINE is set",
		},
		{
			// The fake hub serves another repository: anonymous requests for this one get 401.
			name: "401",
			setup: func(t *testing.T, o *Options) {
				o.Endpoint = newFakeHub(t, makeCheckpoint(t, sharded, "qwen3_vl")).hub.URL
			},
			want: ErrAuth, cause: "401",
		},
		{
			name: "404",
			setup: func(t *testing.T, o *Options) {
				o.Endpoint = newFakeHub(t, makeCheckpoint(t, sharded, "qwen3_vl")).hub.URL
				o.Token = "t"
			},
			want: ErrNotFound, cause: "404",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, nil)
			tc.setup(t, &opts)
			_, err := ResolveDefault(context.Background(), opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v; want one matching %v", err, tc.want)
			}
			var de *DefaultModelError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DefaultModelError", err, err)
			}
			t.Logf("error: %v", err)
			msg := err.Error()
			for _, m := range []string{"hub: no -model was given, and the default, " + DefaultModel + ", is not available: ",
				tc.cause, "-model DIR", "local checkpoint folder", "-model random:PRESET", "dry run", "qwen3-vl-2b"} {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q lacks %q", msg, m)
				}
			}
			if n := strings.Count(msg, "hub: "); n != 1 {
				t.Errorf("error %q says \"hub: \" %d times", msg, n)
			}
			// Named by the user, the same model fails without the note.
			_, err = Resolve(context.Background(), DefaultModel, opts)
			if !errors.Is(err, tc.want) || errors.As(err, &de) || strings.Contains(err.Error(), "no -model") {
				t.Errorf("Resolve(DefaultModel): %v; want the plain error", err)
			}
		})
	}
}

// TestResolveDefaultServed: when the hub serves DefaultModel, ResolveDefault downloads it as
// Resolve does.
func TestResolveDefaultServed(t *testing.T) {
	cp := makeCheckpoint(t, sharded, "qwen3_vl")
	f := newFakeHub(t, cp)
	f.repo = DefaultModel
	opts := testOptions(t, f)
	dir, err := ResolveDefault(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	assertVisionOnly(t, dir, cp)
}

// TestResolveDefaultOtherErrors: a failure that is not about getting the model (here a full
// disk) is returned as Resolve returns it.
func TestResolveDefaultOtherErrors(t *testing.T) {
	f := newFakeHub(t, makeCheckpoint(t, sharded, "qwen3_vl"))
	f.repo = DefaultModel
	saved := diskFree
	diskFree = func(string) int64 { return 10 }
	defer func() { diskFree = saved }()
	_, err := ResolveDefault(context.Background(), testOptions(t, f))
	var de *DefaultModelError
	if !errors.Is(err, ErrDiskFull) || errors.As(err, &de) {
		t.Errorf("disk full: %v; want ErrDiskFull unexplained", err)
	}
}
