package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cursor is where a paged list goes on: after the key After, at revision
// Rev. The zero Cursor starts a list at the current revision.
type Cursor struct {
	Rev   int64
	After string
}

// PageLimits bound one page: at most Objects objects, and the page ends
// with the first object that takes it to Bytes encoded bytes or more.
type PageLimits struct {
	Objects int
	Bytes   int
}

// ListPage returns one page of List's answer, in List's order, read at
// from.Rev (the current revision when 0), that revision, and the cursor of
// the next page, the zero Cursor after the last. A page holds at least one object when any
// is left. When the revision has been compacted it fails with ErrCompacted:
// the caller lists again from the start.
func (s *Store) ListPage(ctx context.Context, kind v1.Kind, from Cursor, lim PageLimits) ([]*v1.Object, int64, Cursor, error) {
	if err := checkKind(kind, true); err != nil {
		return nil, 0, Cursor{}, fmt.Errorf("list: %w", err)
	}
	kinds := []v1.Kind{kind}
	if kind == v1.Kind_KIND_UNSPECIFIED {
		kinds = resource.Kinds()
	}
	first, start := 0, ""
	if from.After != "" {
		ref, err := refOfKey(from.After)
		if err != nil || !slices.Contains(kinds, ref.Kind) {
			return nil, 0, Cursor{}, requestErrorf("list: page token is not one of a list of %s", kindPrefix(kind))
		}
		first, start = slices.Index(kinds, ref.Kind), from.After+"\x00"
	}
	rev, size := from.Rev, 0
	var objs []*v1.Object
	for i := first; i < len(kinds); i++ {
		prefix := kindPrefix(kinds[i])
		if i != first || start == "" {
			start = prefix
		}
		opts := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)), clientv3.WithLimit(int64(lim.Objects - len(objs)))}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		var resp *clientv3.GetResponse
		err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
			resp, err = s.cli.Get(ctx, start, opts...)
			return err
		})
		if errors.Is(err, rpctypes.ErrCompacted) {
			return nil, 0, Cursor{}, fmt.Errorf("list at revision %d: %w; list again from the first page", rev, ErrCompacted)
		}
		if err != nil {
			return nil, 0, Cursor{}, fmt.Errorf("list %s: %w", prefix, err)
		}
		if rev == 0 {
			// Every later read, of this page and the next, is at this one's
			// revision.
			rev = resp.Header.Revision
		}
		for j, kv := range resp.Kvs {
			o, err := decode(kv)
			if err != nil {
				return nil, 0, Cursor{}, err
			}
			objs = append(objs, o)
			size += len(kv.Value)
			full := len(objs) >= lim.Objects || size >= lim.Bytes
			if full && (j < len(resp.Kvs)-1 || resp.More || i < len(kinds)-1) {
				return objs, rev, Cursor{Rev: rev, After: string(kv.Key)}, nil
			}
			if full {
				return objs, rev, Cursor{}, nil
			}
		}
	}
	return objs, rev, Cursor{}, nil
}

// pageTokenSep separates a page token's revision from its key.
const pageTokenSep = ":"

// String is the cursor as a page token, "" for the zero Cursor.
func (c Cursor) String() string {
	if c == (Cursor{}) {
		return ""
	}
	return fmt.Sprintf("%d%s%s", c.Rev, pageTokenSep, strings.TrimPrefix(c.After, DesiredPrefix))
}

// ParseCursor reads a page token made by Cursor.String; "" is the zero
// Cursor.
func ParseCursor(token string) (Cursor, error) {
	if token == "" {
		return Cursor{}, nil
	}
	revText, key, ok := strings.Cut(token, pageTokenSep)
	var rev int64
	if _, err := fmt.Sscan(revText, &rev); !ok || err != nil || rev <= 0 || key == "" {
		return Cursor{}, requestErrorf("list: page token %s is not a next_page_token this controller gave", resource.Quote(token))
	}
	return Cursor{Rev: rev, After: DesiredPrefix + key}, nil
}
