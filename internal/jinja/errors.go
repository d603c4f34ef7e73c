package jinja

import (
	"errors"
	"fmt"
)

// Kind classifies an Error by the Python exception it stands for.
type Kind string

const (
	// Syntax is a TemplateSyntaxError, or a construct this engine does not
	// support (Msg then starts with "unsupported").
	Syntax Kind = "TemplateSyntaxError"
	// Raised is a TemplateError raised by the template's raise_exception.
	Raised Kind = "TemplateError"
	// UndefinedUse is an UndefinedError.
	UndefinedUse Kind = "UndefinedError"
	// Security is a SecurityError of the immutable sandbox.
	Security Kind = "SecurityError"
	// Type is a TypeError, ValueError, ZeroDivisionError, OverflowError…
	Type Kind = "TypeError"
	// Limit is one of this engine's resource limits.
	Limit Kind = "LimitError"
)

// Error is a parse or render error at a line of a named template.
type Error struct {
	Name string // template name, e.g. "qwen3.5.jinja"
	Line int    // 1-based line of the construct; 0 if unknown
	Kind Kind
	Msg  string // for Raised, exactly raise_exception's message
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Msg)
}

// rtError is an error raised while evaluating, before it is placed.
type rtError struct {
	kind Kind
	msg  string
}

func (e *rtError) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &rtError{kind: Type, msg: fmt.Sprintf(format, args...)}
}

func kindErrorf(k Kind, format string, args ...any) error {
	return &rtError{kind: k, msg: fmt.Sprintf(format, args...)}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// place turns err into an *Error at line of template name; an *Error
// already placed is kept.
func place(err error, name string, line int) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var r *rtError
	if errors.As(err, &r) {
		return &Error{Name: name, Line: line, Kind: r.kind, Msg: r.msg}
	}
	return &Error{Name: name, Line: line, Kind: Type, Msg: err.Error()}
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
