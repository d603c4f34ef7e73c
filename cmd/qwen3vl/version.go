package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/qwen3vl/qwen3vl/internal/kernels"
	"golang.org/x/sys/cpu"
)

// versionInfo is what `qwen3vl version` reports.
type versionInfo struct {
	Version  string   `json:"version"`            // the module version, "(devel)" for a source build
	Commit   string   `json:"commit,omitempty"`   // the VCS revision the binary was built from
	Modified bool     `json:"modified,omitempty"` // the work tree had uncommitted changes
	Go       string   `json:"go"`
	Platform string   `json:"platform"`
	Kernels  string   `json:"kernels"`      // the kernel set in use
	BF16     string   `json:"bf16"`         // the bfloat16 dot-product features (kernels.BF16)
	CPU      []string `json:"cpu_features"` // the features the kernels look at
}

func currentVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Kernels: kernels.Name(), BF16: kernels.BF16().String()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	for _, f := range []struct {
		name string
		has  bool
	}{
		{"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA}, {"avx512f", cpu.X86.HasAVX512F},
		{"avx512_bf16", cpu.X86.HasAVX512BF16}, {"asimd", cpu.ARM64.HasASIMD},
	} {
		if f.has {
			v.CPU = append(v.CPU, f.name)
		}
	}
	return v
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version [-json]", stderr)
	asJSON := fs.Bool("json", false, "print as one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	v := currentVersion()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(v)
	}
	commit := v.Commit
	if commit == "" {
		commit = "unknown (built without VCS information)"
	} else if v.Modified {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(stdout, "qwen3vl %s\ncommit   %s\ngo       %s %s\nkernels  %s (CPU: %s)\nbf16     %s\n",
		v.Version, commit, v.Go, v.Platform, v.Kernels, strings.Join(v.CPU, " "), v.BF16)
	return nil
}
