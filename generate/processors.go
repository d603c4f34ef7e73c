package generate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Processors applies the logits processors of a Config to logits rows over a vocabulary
// of a fixed size, in HF's order (see the package doc). It owns its scratch, so Apply does
// not allocate; a Processors is not safe for concurrent use.
type Processors struct {
	cfg   Config
	vocab int

	seen   []uint32 // seen[id] == stamp: id already penalised in this Apply
	stamp  uint32
	counts []int32 // generated-id counts (presence / frequency), zero between calls
	heap   []float32
	idx    []int32
	exps   []float32
}

// NewProcessors validates cfg and returns the processors for rows of vocab logits.
func NewProcessors(cfg Config, vocab int) (*Processors, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if vocab <= 0 {
		return nil, fmt.Errorf("generate: processors: vocabulary size %d", vocab)
	}
	p := &Processors{cfg: cfg, vocab: vocab, seen: make([]uint32, vocab), idx: make([]int32, vocab),
		exps: make([]float32, vocab)}
	if cfg.PresencePenalty != 0 || cfg.FrequencyPenalty != 0 {
		p.counts = make([]int32, vocab)
	}
	if !cfg.Greedy() && cfg.TopK > 0 {
		p.heap = make([]float32, 0, min(cfg.TopK, vocab))
	}
	return p, nil
}

// Apply processes one row of logits (len = the vocabulary size) in place. ids are the
// ids so far, the prompt's first (promptLen of them) and then the generated ones; ids
// outside [0, vocab) are ignored, as HF drops the ids its clamp maps past the vocabulary.
// Removed tokens get -Inf, exactly where HF's processors put -inf.
func (p *Processors) Apply(logits []float32, ids []int32, promptLen int) error {
	if len(logits) != p.vocab {
		return fmt.Errorf("generate: processors: %d logits for a vocabulary of %d", len(logits), p.vocab)
	}
	if promptLen < 0 || promptLen > len(ids) {
		return fmt.Errorf("generate: processors: prompt length %d of %d ids", promptLen, len(ids))
	}
	c := &p.cfg
	if c.RepetitionPenalty != 1 {
		p.repetition(logits, ids)
	}
	if p.counts != nil {
		p.presence(logits, ids[promptLen:])
	}
	if c.Greedy() {
		return nil
	}
	if c.Temperature != 1 {
		t := float32(c.Temperature)
		for i, x := range logits {
			logits[i] = x / t
		}
	}
	if c.TopK > 0 {
		p.topK(logits, min(c.TopK, p.vocab))
	}
	if c.TopP < 1 {
		p.topP(logits, c.TopP)
	}
	if c.MinP > 0 {
		p.minP(logits, c.MinP)
	}
	return nil
}

// active lists the processors Apply runs, in order, by the names of HF's classes
// (presence / frequency, which HF does not have, as "PresenceFrequencyPenalty").
func (p *Processors) active() []string {
	c := &p.cfg
	var out []string
	if c.RepetitionPenalty != 1 {
		out = append(out, "RepetitionPenaltyLogitsProcessor")
	}
	if p.counts != nil {
		out = append(out, "PresenceFrequencyPenalty")
	}
	if c.Greedy() {
		return out
	}
	if c.Temperature != 1 {
		out = append(out, "TemperatureLogitsWarper")
	}
	if c.TopK > 0 {
		out = append(out, "TopKLogitsWarper")
	}
	if c.TopP < 1 {
		out = append(out, "TopPLogitsWarper")
	}
	if c.MinP > 0 {
		out = append(out, "MinPLogitsWarper")
	}
	return out
}

// repetition: each distinct id's logit x becomes x·penalty if x < 0, else x / penalty, in
// float32 as torch computes it with the penalty rounded to float32.
func (p *Processors) repetition(logits []float32, ids []int32) {
	pen := float32(p.cfg.RepetitionPenalty)
	p.stamp++
	if p.stamp == 0 {
		clear(p.seen)
		p.stamp = 1
	}
	for _, id := range ids {
		if id < 0 || int(id) >= p.vocab || p.seen[id] == p.stamp {
			continue
		}
		p.seen[id] = p.stamp
		if x := logits[id]; x < 0 {
			logits[id] = x * pen
		} else {
			logits[id] = x / pen
		}
	}
}

// presence: logit -= frequency·count, then -= presence for each generated id (vLLM's
// order of the two subtractions).
func (p *Processors) presence(logits []float32, gen []int32) {
	for _, id := range gen {
		if id >= 0 && int(id) < p.vocab {
			p.counts[id]++
		}
	}
	fp, pp := float32(p.cfg.FrequencyPenalty), float32(p.cfg.PresencePenalty)
	for _, id := range gen {
		if id < 0 || int(id) >= p.vocab || p.counts[id] == 0 {
			continue
		}
		x := logits[id] - fp*float32(p.counts[id])
		logits[id] = x - pp
		p.counts[id] = 0
	}
}

// topK removes every logit below the k-th largest (torch.topk's k-th value), so all the
// logits tied with the k-th are kept, as HF's `scores < topk(scores, k)[0][..., -1]`.
func (p *Processors) topK(logits []float32, k int) {
	h := p.heap[:0]
	for _, x := range logits {
		if len(h) < k {
			h = append(h, x)
			siftUp(h, len(h)-1)
		} else if x > h[0] {
			h[0] = x
			siftDown(h, 0)
		}
	}
	p.heap = h
	kth := h[0]
	for i, x := range logits {
		if x < kth {
			logits[i] = float32(math.Inf(-1))
		}
	}
}

// siftUp and siftDown keep h a min-heap.
func siftUp(h []float32, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !(h[i] < h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func siftDown(h []float32, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r] < h[l] {
			m = r
		}
		if !(h[m] < h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// topP is HF's TopPLogitsWarper: sort the whole row ascending in torch.sort's order (ties
// included, see torchSort), softmax, cumulative sum (torch accumulates a float32 cumsum in
// float64 on the CPU); remove the tokens whose cumulative probability is ≤ 1 - top_p
// (rounded to float32), except the last (largest).
//
// The fast path sorts only the finite logits, in any order among equals: -Inf logits have
// probability 0, sit at the front of torch's sort and are removed anyway, and equal logits
// add equal terms to the sum, so the cumulative sums at each sorted position, and so the
// number of removed positions, do not depend on the order within ties. Only which ids
// are removed does, when a run of equal logits straddles the cut; then topPExact
// reproduces torch's order over the whole row.
func (p *Processors) topP(logits []float32, topP float64) {
	idx := p.idx[:0]
	for i, x := range logits {
		if !math.IsInf(float64(x), -1) {
			idx = append(idx, int32(i))
		}
	}
	if len(idx) < 2 {
		return
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(logits[a], logits[b]) })
	e := p.exps[:len(idx)]
	for j, i := range idx {
		e[j] = logits[i]
	}
	softmax(e, e)
	c := cutTopP(e, float32(1-topP))
	if c > 0 && logits[idx[c-1]] == logits[idx[c]] {
		p.topPExact(logits, topP)
		return
	}
	for _, i := range idx[:c] {
		logits[i] = float32(math.Inf(-1))
	}
}

// cutTopP returns how many of the ascending probabilities e top-p removes: the leading
// positions whose float32 cumulative sum is ≤ thr, never the last one.
func cutTopP(e []float32, thr float32) int {
	var cum float64
	for j := 0; j < len(e)-1; j++ {
		cum += float64(e[j])
		if float32(cum) > thr {
			return j
		}
	}
	return len(e) - 1
}

// topPExact is topP over the whole row in torch.sort's order.
func (p *Processors) topPExact(logits []float32, topP float64) {
	n := len(logits)
	idx := p.idx[:n]
	for i := range idx {
		idx[i] = int32(i)
	}
	torchSort(idx, logits)
	e := p.exps[:n]
	for j, i := range idx {
		e[j] = logits[i]
	}
	softmax(e, e)
	for _, i := range idx[:cutTopP(e, float32(1-topP))] {
		logits[i] = float32(math.Inf(-1))
	}
}

// minP is HF's MinPLogitsWarper: remove the tokens whose probability is below min_p
// times the largest probability (both float32).
func (p *Processors) minP(logits []float32, minP float64) {
	probs := p.exps
	softmax(probs, logits)
	var top float32
	for _, q := range probs {
		top = max(top, q)
	}
	thr := float32(minP) * top
	for i, q := range probs {
		if q < thr {
			logits[i] = float32(math.Inf(-1))
		}
	}
}

// softmax writes softmax(x) to dst (len(dst) == len(x); dst may be x): exp(x - max) in
// float32 rounding of a float64 exp, the sum in float64 rounded to float32, then each
// term times the float32 reciprocal of the sum, as torch's vectorised CPU softmax orders
// it. An all -Inf row gives NaN, as torch does.
func softmax(dst, x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		dst[i] = e
		sum += float64(e)
	}
	inv := 1 / float32(sum)
	for i := range dst {
		dst[i] *= inv
	}
}

// Softmax returns softmax(logits) as float32 probabilities in a new slice (-Inf logits get
// probability 0).
func Softmax(logits []float32) []float32 {
	out := make([]float32, len(logits))
	softmax(out, logits)
	return out
}
