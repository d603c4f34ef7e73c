// Package job runs the vision tower over many inputs into a folder that survives being killed,
// splits across workers, and is read back as one file.
//
// # Inputs
//
// A Source streams inputs (files, folders walked recursively in lexical order, glob patterns,
// the lines of a list file or of stdin) in the order a plain encode of the same arguments
// takes them; each gets its Ordinal, its position in that stream. Its Key is its path relative
// to its root: for a file inside a folder argument, the path below that folder
// ("sub/a.jpg" for DIR/sub/a.jpg, whatever DIR is called or where it is mounted); for a glob
// match, the path below the pattern's folder part; for a file argument or a list line, the
// path as written (cleaned, slash-separated). Two inputs of one job with the same key are
// refused.
//
// # Splitting
//
// Worker i of n (Split) takes the inputs whose key hashes to i: the first 8 bytes of the key's
// SHA-256 as a big-endian integer, modulo n (Worker). Every worker lists the whole stream (so
// ordinals agree) and encodes only its part; n workers with the same inputs under any mount
// path cover every input exactly once.
//
// # The folder
//
//	manifest.json          the model, every preprocessing option, the output layout, the split
//	shard-000000.safetensors   pooler_output, deepstack_features.K, last_hidden_state, grid_thw
//	index-000000.jsonl     one Entry per input: ordinal, key, path, sha256, status, error,
//	                       grid, shard, item, token and patch rows, dup
//	...
//	done.json              written last: every input of the worker's part has an entry
//
// Shard k holds the rows of consecutive encoded items, at most Config.ShardBytes of tensor
// data (an item larger than that has a shard alone). Shard k is written atomically (a
// temporary file, fsync, rename, fsync of the folder: internal/fsutil), then segment k, which
// lists its items and any failed or duplicate inputs resolved since the last segment. An
// input is complete when a segment lists it as ok. When a folder is opened again, temporary
// files and shards no segment lists (a run killed between the two writes) are removed, and the
// complete inputs are skipped; a failed input is tried again (a later entry supersedes it). So
// a run killed at any moment and run again ends with every input listed once, its rows those
// an uninterrupted run gives (an item's features do not depend on what it was batched with).
//
// A folder whose manifest differs from the run's in any field (model, weights digest, config,
// weights form, compute, an image option, the split) is refused with ErrMismatch naming each
// difference. The inputs must not change between runs of one folder: an input found at
// another ordinal than the index records is refused.
//
// Memory: the features of one shard being filled and of the batches queued; per input of the
// stream, 24 bytes for the duplicate-key check, and per complete input of the folder, its key's
// hash and ordinal, and its bytes' hash with its rows (about 100 bytes); never the input list
// or its paths. Merge and export hold one entry per input.
//
// Inputs with identical bytes (SHA-256) are encoded once: the later ones' entries point to the
// first one's rows (Dup), within a run and across runs of a folder; workers do not share
// their hashes, so two workers may each encode a copy.
//
// # Merging and export
//
// Merge reads the folders of every worker, checks that they share a manifest (but for the
// split), that there is one complete folder per worker, that each entry is in its key's
// worker's folder, and that every ordinal of the stream is there exactly once. Index.Export
// writes the encoded items, by ordinal, in the single-file contract of encode -o
// FILE.safetensors with the same provenance metadata: byte for byte the file a plain encode
// of the same inputs (with -keep-going if some failed) writes, when the workers opened the
// inputs by the same paths (the metadata's "items" are the paths as opened).
package job
