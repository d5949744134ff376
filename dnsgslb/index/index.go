package index

import (
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// Index is the compiled, immutable form of one snapshot. Every method is
// safe for concurrent use.
type Index struct {
	revision   int64
	compiledAt time.Time
	// digest is the snapshot's (GslbSnapshot.digest); nil when the
	// controller sent none.
	digest []byte
	table  *geo.Table
	// clients describes each location class of table as a selection client.
	clients []client
	// popSig and rttSig are the PoP inputs of clients (popSignature) and
	// what the latency policy reads of them (rttSignature); placeOf
	// numbers the clients' places (nil until a build needs it). A build
	// with the same table and popSig shares all three.
	popSig, rttSig string
	placeOf        *placeIDs
	// names and zones are keyed by the lower-case wire-format name.
	names   map[string]*node
	zones   map[string]*zone
	records []*record
	// cuts is set when a zone delegates names (see findCuts).
	cuts bool
	// delegates is set when a zone has NS records below its apex.
	delegates bool
	// srcSigs and popsSig sum up each origin and the PoPs as records read
	// them (see sourceSigs), for the next build to tell which records
	// are unchanged.
	srcSigs map[string]string
	popsSig string
	// parsed and compiled count the records this build parsed and
	// compiled rather than took from the previous index.
	parsed, compiled int
	// profKeys holds the profile keys of the records this build parsed,
	// for the next build to take rather than allocate again (a record
	// taken as parsed keeps its own).
	profKeys map[string]string
	// placeScopes are the scope tables of records ranked by residency
	// rule alone, by grouping of the places (see placeScopesFor).
	placeScopes map[string][2][]uint8

	// dist and profiles are the distances and rankings computed against
	// table, for the next build with the same table to reuse (see
	// builder).
	dist     map[[2]float64][]float64
	profiles map[string]*profile
	// rows ranks the candidate locations of the records answered live for
	// every class; nil when there are none.
	rows *rowTable
	// scopeCells counts the cells of the scope tables this index built or
	// kept, against maxScopeCells.
	scopeCells int
	// alloc is the build's slabs while it is compiled; nil after.
	alloc *buildAlloc
	// resignAt is when signatures must be made again (see ResignAt), and
	// signedAt when they were (see SignedAt).
	resignAt, signedAt time.Time
	// quick is set when the index was built without scope tables
	// (Options.Quick).
	quick bool
	// unfinished is set when the per-build budget left out scope tables
	// (see Unfinished).
	unfinished bool
}

// Unfinished reports whether the index left out scope tables only to
// bound the work of one build: a build of the same snapshot with this
// index as Previous adds more of them. Answers are right meanwhile, their
// scopes narrower.
func (ix *Index) Unfinished() bool { return ix.unfinished }

// Quick reports whether the index was built without ECS scope tables
// (Options.Quick): its answers are right and their scopes narrower.
func (ix *Index) Quick() bool { return ix.quick }

// Revision is the snapshot revision the index was compiled from.
func (ix *Index) Revision() int64 { return ix.revision }

// Digest is the snapshot's content digest as the controller stated it
// (GslbSnapshot.digest), nil when it stated none. The caller must not
// modify it.
func (ix *Index) Digest() []byte { return ix.digest }

// CompiledAt is when the controller compiled the snapshot.
func (ix *Index) CompiledAt() time.Time { return ix.compiledAt }

// Table is the prefix table clients are located with.
func (ix *Index) Table() *geo.Table { return ix.table }
