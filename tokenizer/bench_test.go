package tokenizer

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func benchEncode(b *testing.B, text string) {
	tk := family(b, "qwen3vl")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	dst, err := tk.AppendEncode(make([]int32, 0, len(text)), text) // warm the cache and tables
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var err error
		if dst, err = tk.AppendEncode(dst[:0], text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode encodes testdata/tokenizer/bench.txt (about 1 MB of multilingual text).
func BenchmarkEncode(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdata, "bench.txt"))
	if os.IsNotExist(err) {
		b.Skip("testdata/tokenizer/bench.txt absent")
	}
	if err != nil {
		b.Fatal(err)
	}
	benchEncode(b, string(data))
}

// BenchmarkEncodeSynthetic encodes a generated English/code/CJK mix.
func BenchmarkEncodeSynthetic(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 2000; i++ {
		sb.WriteString("The quick brown fox's 42 jumps over the lazy dog. ")
		sb.WriteString("func main() { fmt.Println(\"hi\") }\n")
		sb.WriteString("我们今天去公园散步。Grüße aus Köln! ")
	}
	benchEncode(b, sb.String())
}

func BenchmarkDecode(b *testing.B) {
	tk := family(b, "qwen3vl")
	ids, err := tk.Encode(strings.Repeat("The quick brown fox jumps over the lazy dog. 你好世界。", 1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Decode(ids, false); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadCost reports the time and heap of loading each family (no assertion beyond a
// generous bound on time).
func TestLoadCost(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		tk, err := Load(filepath.Join(testdata, fam))
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		t.Logf("%s: load %v, retained heap %.1f MiB, allocated during load %.1f MiB", fam, d,
			float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20),
			float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
		runtime.KeepAlive(tk)
		if d > 10*time.Second {
			t.Errorf("%s: load took %v", fam, d)
		}
	}
}
