// Package text is the Qwen3-VL text decoder: its configuration (the "text_config" of a
// checkpoint's config.json), its weights (Load from safetensors, or Random from the synth
// rules), and the forward pass over a KV cache: Prefill of a prompt (with the visual rows and
// DeepStack features textjoin placed) and Decode of one token at a time, returning logits.
//
// The computation is Hugging Face's Qwen3VLTextModel with the lm_head, in float32 (transformers
// 5.24.0): pre-norm layers with RMSNorm, grouped-query attention with per-head q/k RMSNorm and
// interleaved MRoPE (rope.go), a SwiGLU MLP, DeepStack features added after the first layers,
// the final norm and the output projection (tied to embed_tokens in the small sizes). The
// goldens of testdata/text/tiny check it, from the image files to 64 greedy tokens.
//
// The parameters are declared once, in tensors.go's table, which drives the load-time check,
// the binding, ParamCount, ResidentBytes and Costs. Every projection is a kernels.Linear; a
// decode step runs them on one row (a dedicated GEMV, and fused q|k|v and gate|up projections,
// are later steps).
package text
