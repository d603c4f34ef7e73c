package kernels

// The matrix-vector path of Linear: a call of at most gemvMaxRows rows (a decode step's single
// token, a few sequences decoded together) reads every weight once and does two FLOP per
// weight, so it is bound by memory bandwidth, not arithmetic. Each implementation then runs its
// GEMV (gemv_amd64.go, gemv_generic.go) instead of its GEMM: over the weights in the layout the
// implementation keeps (no repacking, no copy), one row of x at a time, each output one float32
// chain along K in the GEMM's own order, so a row's result is, bit for bit, what the GEMM gives
// it (in a batch or alone: TestLinearRowInvariance, TestGEMV).
//
// gemvMaxRows is 4. A decode step has one row. For a few rows the GEMV runs the kernel once per
// row, the later rows reading the weights from L2 (gemvGroup), while the GEMM reads them once
// for up to 6 rows per micro-tile but packs the activations, runs a 6-row kernel whatever m is
// and, for bf16, widens each weight micro-panel into a scratch first: on one goroutine, for the
// 2B decoder's 2048 → 2048 projection with its weights coming from memory, the GEMV took 52%
// (bf16) and 58% (f32) of the GEMM's time at m = 1, 64% and 66% at m = 2, 88% and 82% at m = 4,
// the GEMM's time flat in m (its tile holds 6 rows): the GEMV's grows about 0.16 ms (bf16)
// and 0.15 ms (f32) a row, so the two meet near m = 5.
const gemvMaxRows = 4

// Tasks of the GEMV: a chunk of output columns (weight panels) over all of K. A task reads at
// least gemvTaskBytes of weights, so taking one (an atomic add and a check of done) costs
// nothing next to streaming them from memory (256 KiB is ~25 µs at 10 GB/s), and there are
// about gemvTasksPerThread tasks per goroutine when the weights allow, so a goroutine that
// starts late or is descheduled costs at most a task's time at the end of the call.
const (
	gemvTaskBytes      = 256 << 10
	gemvTasksPerThread = 16
)

// gemvChunk returns how many of units (panels or columns, unitBytes of weights each) a GEMV
// task takes on threads goroutines.
func gemvChunk(units, unitBytes, threads int) int {
	per := max(1, (gemvTaskBytes+unitBytes-1)/unitBytes)
	want := gemvTasksPerThread * max(threads, 1)
	return min(units, max(per, (units+want-1)/want))
}
