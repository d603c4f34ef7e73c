module github.com/qwen3vl/qwen3vl

go 1.26.0

require golang.org/x/sys v0.50.0 // indirect
