// Package checkpoint holds what the vision tower's loader (package vision) and the text
// decoder's (package text) share, written once: how a model holds its Linears' weights
// (Weights), the check that a path is a checkpoint folder (Dir), the bounded read of a
// config.json (ReadConfig) and the wording of its JSON type errors (DescribeJSONError), and the
// parallel binding of a parameter table's modules with the first error kept (Binder).
//
// It knows no model: the packages hand it their parse functions and their binding work.
package checkpoint
