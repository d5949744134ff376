package store

import (
	"errors"
	"fmt"

	"github.com/anyctl/anyctl/resource"
)

// NotFoundError reports an object that is not stored.
type NotFoundError struct {
	Ref resource.Ref
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s not found", e.Ref) }

// ConflictError reports a resource-version precondition that does not hold:
// the caller's copy of the object is stale.
type ConflictError struct {
	Ref resource.Ref
	// Op is the refused operation: "apply" or "delete".
	Op string
	// Given is the resource version the caller expected.
	Given int64
	// Stored is the version in the store, 0 when the object does not exist.
	Stored int64
}

func (e *ConflictError) Error() string {
	if e.Stored == 0 {
		return fmt.Sprintf("%s: resource version %d is stale: the object does not exist; apply it without a resource version to create it", e.Ref, e.Given)
	}
	again := "re-apply"
	if e.Op == "delete" {
		again = "delete again"
	}
	return fmt.Sprintf("%s: resource version %d is stale: stored version is %d; get the object again and %s", e.Ref, e.Given, e.Stored, again)
}

// RequestError reports a request that is wrong whatever is stored: an
// unknown kind, a name that makes no key, an object with no resource, the
// same object twice. The client has to change the request.
type RequestError struct{ msg string }

func (e *RequestError) Error() string { return e.msg }

func requestErrorf(format string, args ...any) error {
	return &RequestError{msg: fmt.Sprintf(format, args...)}
}

var (
	// ErrContention is wrapped by a write that lost the race to concurrent
	// writes more times than it retries; trying again later may succeed.
	ErrContention = errors.New("the desired state kept changing under concurrent writes")
	// ErrTooLarge is wrapped by a write larger than the etcd server takes
	// in one transaction.
	ErrTooLarge = errors.New("too large for one etcd transaction")
	// ErrNoSpace is wrapped by a write etcd refused because its database
	// reached its space quota (its NOSPACE alarm is raised): nothing was
	// written, and no write succeeds until space is reclaimed.
	ErrNoSpace = errors.New("etcd's database is out of space (NOSPACE alarm: mvcc: database space exceeded)")
	// ErrCompacted ends a watch whose start revision etcd has compacted
	// away; the caller lists again and watches from the list's revision+1.
	ErrCompacted = errors.New("start revision has been compacted")
)
