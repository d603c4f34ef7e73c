// Package tokenizer is Qwen's byte-level BPE tokenizer read from a Hugging Face
// tokenizer.json, giving the same ids, pieces and text as Hugging Face tokenizers 0.23.3
// (with transformers 5.24.0) for the Qwen3-VL and Qwen3.5 vocabularies.
//
// # Encoding
//
// Encode(text) equals tokenizer(text).input_ids:
//
//  1. Added tokens with "normalized": false are cut out of the raw text, leftmost first and
//     then longest (as aho-corasick's LeftmostLongest), honouring single_word, lstrip and
//     rstrip; tokenizer_config.json's split_special_tokens true leaves special ones in.
//  2. Every other segment is normalized (NFC, NFD, NFKC, NFKD or a Sequence of them), then
//     added tokens with "normalized": true are cut out of the normalized segment. NFC is
//     the reference's: decompositions and combining classes from
//     golang.org/x/text/unicode/norm, corrected where the reference's older Unicode data
//     differs (108 marks that it treats as starters, no U+11935 U+11930 composition) and
//     with runs of combining marks reordered in full (x/text sorts at most 30); text that
//     passes the quick check is returned unchanged, and only the pieces between ASCII
//     characters that fail it are normalized. NFD, NFKC and NFKD are x/text's as they are.
//  3. The pre-tokenizer's Split steps cut each segment with their patterns (Oniguruma
//     semantics, see package tokenizer/internal/pattern for the supported syntax) and
//     behavior (Isolated, Removed, MergedWithPrevious,
//     MergedWithNext, Contiguous; invert). A final ByteLevel step is required
//     (add_prefix_space false; use_regex true adds the GPT-2 split pattern). The pattern is
//     the one written in tokenizer.json, compiled by a backtracking engine: `\s+(?!\S)`
//     takes the whole run of white space and gives back one character at a time until no
//     non-space follows (so a letter, three spaces and a letter split into the
//     letter, two spaces, and a space with the letter); at the end of the text it keeps
//     the whole run. \p{L}, \p{N}, \p{M} are the reference's Unicode 16.0 sets and \s is
//     White_Space, checked code point by code point against the reference sweep.
//  4. Each pre-token's bytes become byte-level symbols (GPT-2's bytes_to_unicode: 'Ġ' for a
//     space) and BPE merges them: the adjacent pair of lowest merge rank first, the leftmost
//     on ties, until no pair merges. Words of up to 48 symbols are merged by scanning,
//     longer ones with a heap (the same result; the tests check both), so a 100,000-letter
//     word takes O(n log n). Results of pre-tokens under 256 bytes are cached, up to 10,000
//     per scratch state. ignore_merges is honoured.
//
// The post-processor must add nothing (TemplateProcessing with single [A] and no special
// tokens, or ByteLevel). Unsupported components (other model types such as WordPiece or
// Unigram, other normalizers, pre-tokenizers or decoders, BPE dropout, unk_token,
// byte_fallback, subword prefixes, truncation, padding) are refused at load with an error
// naming the file and the component.
//
// A Go string may hold invalid UTF-8, which a Python str cannot: Encode returns an error
// naming the byte offset of the first invalid byte rather than guessing.
//
// # Decoding
//
// Decode(ids, skipSpecial) equals tokenizer.decode(ids, skip_special_tokens=skipSpecial):
// pieces are mapped back to bytes (a piece with a code point outside the byte map stands
// for its own UTF-8 bytes), joined, and invalid UTF-8 becomes U+FFFD as
// String::from_utf8_lossy does. skipSpecial drops the added tokens marked "special": true
// only (for Qwen <think>, <tool_call> and the FIM tokens stay). Unknown ids are an error.
// Stream decodes id by id exactly as tokenizers' DecodeStream.step.
//
// # Loading
//
// Load reads a folder's tokenizer.json, tokenizer_config.json and, if present,
// generation_config.json (regular files of at most 512 MiB); Parse reads tokenizer.json
// bytes. Specials gives the end, pad and begin ids and the chat and vision token ids.
// Loading the Qwen3-VL tokenizer.json (8 MB) takes a fraction of a second.
//
// A Tokenizer is safe for concurrent use; Encode keeps its scratch buffers in a pool and
// allocates only for its result, text that is not yet normalized, and new cache entries.
package tokenizer
