// Package textjoin joins the vision encoder's outputs to a Qwen3-VL language model's token
// sequence exactly as Hugging Face transformers does (pinned: 5.24.0):
//
//   - [Tokens]: the vision token ids and strings, read from a checkpoint's config.json and
//     tokenizer files ([LoadTokens]), with the Qwen defaults only where a file lacks them.
//   - Placeholders: [Expand] / [ExpandBatch] turn a prompt into the processor's expanded text
//     (each image pad becomes t·h·w/m² pads; each video pad becomes, per temporal group,
//     "<t.t seconds>" + vision_start + h·w/m² pads + vision_end), [ExpandIDs] does the same on
//     token ids, [Describe] reports which token span is which item (for `qwen3vl prompt`).
//     Prompts may use the marks "<image>" and "<video>" ([ReplaceMarks]).
//   - Placement: [Scatter] copies pooler rows over the pad embeddings (masked_scatter), returns
//     visual_pos_masks and the DeepStack rows aligned to it; [AddDeepstack] is the per-layer
//     addition.
//   - Positions: [RopeIndex] / [RopeIndexBatch] are get_rope_index (the 3×seq MRoPE ids and
//     rope_deltas, with an attention mask); [DecodePosition] is the rule for generated tokens.
//
// docs/TEXTJOIN.md explains how a language-model runtime uses these pieces. Every behaviour is
// checked against goldens made by tools/reference/textjoin_goldens.py (testdata/textjoin).
//
// The package has no dependency on the vision package: [Matrix] has the same fields as
// vision.Matrix, so textjoin.Matrix(m) converts one, and [Grid] mirrors vision.Grid.
package textjoin
