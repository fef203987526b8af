// Package apperr is the error vocabulary shared by services and the HTTP edge.
// Services say what went wrong (Kind, Code, Field); the edge alone decides the HTTP
// status and translates the Code into the user's language.
package apperr

import (
	"errors"
	"fmt"
)

// Kind groups errors by how the caller should react.
type Kind uint8

const (
	KindInternal        Kind = iota // a bug or an outage we did not classify: 500
	KindNotFound                    // unknown id, or an id of another tenant: 404
	KindInvalid                     // input breaks a rule: 422
	KindBadRequest                  // input is not even well-formed: 400
	KindConflict                    // the state changed under the caller: 409
	KindForbidden                   // known caller, not allowed: 403
	KindUnauthenticated             // caller unknown: 401
	KindTooMany                     // rate limited: 429
	KindTooLarge                    // body or upload too large: 413
	KindUnavailable                 // a dependency is down or the tenant paused: 503
	KindGone                        // existed, but no longer (an expired download): 410
)

// Error is a classified error. Code is stable snake_case and doubles as the message
// key "error.<code>" in the catalogue; Args fill the message's {placeholders}.
type Error struct {
	Kind    Kind
	Code    string
	Field   string
	Args    map[string]any
	Details map[string]any
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match two errors of the same kind and code, so package-level
// sentinels still match after WithField or Wrap made a copy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// New makes an error of the given kind and code.
func New(kind Kind, code string) *Error { return &Error{Kind: kind, Code: code} }

// NotFound is the answer for unknown ids, including ids that exist in another tenant.
func NotFound(code string) *Error { return New(KindNotFound, code) }

// Invalid reports that field breaks the rule named by code.
func Invalid(field, code string, args map[string]any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Args: args}
}

// Conflict reports that the request clashes with the current state.
func Conflict(code string) *Error { return New(KindConflict, code) }

// Forbidden reports that the caller may not do this.
func Forbidden(code string) *Error { return New(KindForbidden, code) }

// Unavailable reports that a dependency or the tenant is not available right now.
func Unavailable(code string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: code, Err: cause}
}

// WithField returns a copy that names the offending field.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithArgs returns a copy with message arguments.
func (e *Error) WithArgs(args map[string]any) *Error {
	c := *e
	c.Args = args
	return &c
}

// Wrap returns a copy that carries cause for the logs.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// As finds the classified error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// List carries several validation errors of one request, so a form can mark every
// bad field at once. Its Kind is KindInvalid.
type List []*Error

func (l List) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	return fmt.Sprintf("%d invalid fields, first: %v", len(l), l[0])
}

// Err returns nil for an empty list, so `return list.Err()` reads naturally.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Collect adds err's field errors to errs (the entries of a List, or the one *Error), so
// a form gets every refusal at once.
func Collect(errs *List, err error) {
	if err == nil {
		return
	}
	var list List
	if e, ok := err.(List); ok {
		list = e
	} else if e, ok := As(err); ok {
		list = List{e}
	}
	*errs = append(*errs, list...)
}
