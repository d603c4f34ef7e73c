package main

import (
	"path/filepath"
	"testing"
)

// TestManifests checks the repository's manifests: every document passes.
func TestManifests(t *testing.T) {
	files, err := expand([]string{"../../deploy/k8s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		docs, err := documents(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) == 0 {
			t.Errorf("%s: no documents", f)
		}
		for i, d := range docs {
			if what, err := check(d); err != nil {
				t.Errorf("%s, document %d (%s): %v", f, i+1, what, err)
			}
		}
	}
}

// TestBroken checks that each broken manifest of testdata/ (a misspelt field, a wrong type, a
// duplicate field, a bad quantity, and objects that are well-formed but that the API's
// validation refuses) fails, and says why.
func TestBroken(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad-*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/bad-*.yaml")
	}
	for _, f := range files {
		docs, err := documents(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 1 {
			t.Fatalf("%s: %d documents, want 1", f, len(docs))
		}
		what, err := check(docs[0])
		if err == nil {
			t.Errorf("%s (%s) passed, want a failure", f, what)
			continue
		}
		t.Logf("%s: %v", filepath.Base(f), err)
	}
}
