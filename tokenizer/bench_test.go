package tokenizer

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func benchEncode(b *testing.B, fam, text string) {
	tk := family(b, fam)
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

// BenchmarkEncode encodes testdata/tokenizer/bench.txt (about 1 MB of multilingual text) as
// one string, with each family's tokenizer; tools/reference/bench_tokenizers.py times the
// reference on the same text.
func BenchmarkEncode(b *testing.B) {
	data := benchText(b)
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		b.Run(fam, func(b *testing.B) { benchEncode(b, fam, data) })
	}
}

// BenchmarkEncodeLines encodes bench.txt line by line (each line with its "\n").
func BenchmarkEncodeLines(b *testing.B) {
	data := benchText(b)
	lines := strings.SplitAfter(data, "\n")
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		b.Run(fam, func(b *testing.B) {
			tk := family(b, fam)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			dst := make([]int32, 0, 4096)
			var err error
			for b.Loop() {
				for _, l := range lines {
					if dst, err = tk.AppendEncode(dst[:0], l); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func benchText(b *testing.B) string {
	data, err := os.ReadFile(filepath.Join(testdata, "bench.txt"))
	if os.IsNotExist(err) {
		b.Skip("testdata/tokenizer/bench.txt absent")
	}
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// BenchmarkEncodeSynthetic encodes a generated English/code/CJK mix.
func BenchmarkEncodeSynthetic(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 2000; i++ {
		sb.WriteString("The quick brown fox's 42 jumps over the lazy dog. ")
		sb.WriteString("func main() { fmt.Println(\"hi\") }\n")
		sb.WriteString("我们今天去公园散步。Grüße aus Köln! ")
	}
	benchEncode(b, "qwen3vl", sb.String())
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

// BenchmarkLoad measures loading each family's tokenizer.json and reports the heap it keeps
// ("retained-MiB") and the bytes allocated while loading ("alloc-MiB"). A benchmark, not a
// test: timings have no thresholds.
func BenchmarkLoad(b *testing.B) {
	for _, fam := range []string{"qwen3vl", "qwen3.5"} {
		b.Run(fam, func(b *testing.B) {
			var retained, allocated float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				tk, err := Load(filepath.Join(testdata, fam))
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(tk)
				retained = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
				allocated = float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
			}
			b.ReportMetric(retained, "retained-MiB")
			b.ReportMetric(allocated, "alloc-MiB")
		})
	}
}
