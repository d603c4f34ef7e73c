#!/usr/bin/env bash
# Whole-model timings side by side on this machine: `qwen3vl bench -generate` (float32 weights,
# bfloat16-held weights, and -compute bf16 where the CPU has AVX512_BF16) and Hugging Face
# transformers (float32 and bfloat16), for the 2B and 4B
# shapes with random weights, one process after the other (never two models in memory at once).
# The FMA peak and the memory read bandwidth are measured once first (`qwen3vl bench -peak`) and
# passed to the PyTorch runs for their percentages.
#
#   tools/reference/bench_generate.sh                 # from the repository root; ~30-40 min
#   THREADS=2 RUNS=3 TOKENS=64 PRESETS="qwen3-vl-2b" OUT=/tmp/bench tools/reference/bench_generate.sh
#   GO_VARIANTS="bf16 bf16dot" TORCH_DTYPES="bfloat16" tools/reference/bench_generate.sh
#
# Every JSON line goes to $OUT/results.jsonl, each run's full output to $OUT/<name>.txt, and a
# summary table is printed at the end. Run it on a quiet machine: the 4B in float32 needs about
# 18 GB.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
TOKENS=${TOKENS:-64}
PRESETS=${PRESETS:-qwen3-vl-2b qwen3-vl-4b}
GO_VARIANTS=${GO_VARIANTS:-f32 bf16 bf16dot} # weights f32, weights bf16, -compute bf16
TORCH_DTYPES=${TORCH_DTYPES:-float32 bfloat16}
OUT=${OUT:-/tmp/qwen3vl-bench-generate}
PY=${PY:-tools/reference/.venv/bin/python}
mkdir -p "$OUT"
: >"$OUT/results.jsonl"

export GOFLAGS=${GOFLAGS:--buildvcs=false}
go build -o "$OUT/qwen3vl" ./cmd/qwen3vl

"$OUT/qwen3vl" bench -peak -threads "$THREADS" | tee "$OUT/peak.json"
peak=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_gflops"])' "$OUT/peak.json")
read=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["read_gbps"])' "$OUT/peak.json")

run() { # name command...
	local name=$1
	shift
	echo "== $name: $*" >&2
	"$@" 2>&1 | tee "$OUT/$name.txt"
	tail -n 1 "$OUT/$name.txt" >>"$OUT/results.jsonl"
}

for p in $PRESETS; do
	for v in $GO_VARIANTS; do
		case $v in
		bf16dot)
			if ! "$OUT/qwen3vl" version | grep -Eq '^bf16 +avx512_bf16$'; then
				echo "== go-$p-bf16dot skipped: no AVX512_BF16 here" >&2
				continue
			fi
			flags=(-compute bf16)
			;;
		*) flags=(-weights "$v") ;;
		esac
		run "go-$p-$v" "$OUT/qwen3vl" bench -generate -model "random:$p" "${flags[@]}" -threads "$THREADS" \
			-runs "$RUNS" -warmup "$WARMUP" -tokens "$TOKENS"
	done
	for d in $TORCH_DTYPES; do
		run "torch-$p-$d" "$PY" tools/reference/bench_torch_generate.py --preset "$p" --dtype "$d" --threads "$THREADS" \
			--runs "$RUNS" --warmup "$WARMUP" --tokens "$TOKENS" --peak-gflops "$peak" --read-gbps "$read"
	done
done

"$PY" - "$OUT/results.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\n{'model':<20} {'engine':<46} {'w':>4} {'math':>4} {'TTFT s':>7} {'enc s':>6} {'pre s':>6} {'pre GF/s':>8} {'%pk':>5} {'tok/s':>6} {'GB/s':>6} {'%bw':>5} {'RSS MiB':>8}")
for r in rows:
    print(f"{r['model']:<20} {r['engine'][:46]:<46} {r['weights']:>4} {r.get('compute', r['weights']):>4} {r['ttft_s']:7.2f} {r['encode_s']:6.2f} {r['prefill_s']:6.2f} "
          f"{r['prefill_gflops']:8.1f} {r.get('prefill_pct_peak', 0):5.1f} {r['decode_tok_s']:6.2f} {r['decode_gbps']:6.1f} "
          f"{r.get('decode_pct_bandwidth', 0):5.1f} {r['peak_rss_mib']:8.0f}")
PYEOF
