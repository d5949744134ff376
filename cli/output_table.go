package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// cellNone fills an empty table cell.
const cellNone = "-"

// kindTable is how get shows one kind: the column headers and a row per object.
// zones maps GslbZone names to their specs, for record names and TTLs.
type kindTable struct {
	headers []string
	row     func(o *v1.Object, zones map[string]*v1.GslbZoneSpec) []string
}

var kindTables = map[v1.Kind]kindTable{
	v1.Kind_KIND_POP: {
		headers: []string{"NAME", "LOCATION", "ASN", "ROUTER-ID", "PEERS", "VERSION"},
		row: func(o *v1.Object, _ map[string]*v1.GslbZoneSpec) []string {
			s := o.GetPop().GetSpec()
			return []string{cellName(o), cellLocation(s.GetLocation()), cellUint(uint64(s.GetLocalAsn())), cellText(s.GetRouterId()),
				strconv.Itoa(len(s.GetPeers())), cellVersion(o)}
		},
	},
	v1.Kind_KIND_ANYCAST_SERVICE: {
		headers: []string{"NAME", "PREFIXES", "POPS", "CHECK", "VERSION"},
		row: func(o *v1.Object, _ map[string]*v1.GslbZoneSpec) []string {
			s := o.GetAnycastService().GetSpec()
			return []string{cellName(o), cellList(s.GetPrefixes()), cellPopSelector(s.GetPops()), cellCheck(s.GetHealthCheck()), cellVersion(o)}
		},
	},
	v1.Kind_KIND_ORIGIN: {
		headers: []string{"NAME", "LOCATION", "ADDRESSES", "WEIGHT", "DIAL"},
		row: func(o *v1.Object, _ map[string]*v1.GslbZoneSpec) []string {
			s := o.GetOrigin().GetSpec()
			dial := int32(100)
			if s.TrafficDial != nil {
				dial = s.GetTrafficDial()
			}
			return []string{cellName(o), cellLocation(s.GetLocation()), cellList(s.GetAddresses()), strconv.Itoa(int(s.GetWeight())),
				fmt.Sprintf("%d%%", dial)}
		},
	},
	v1.Kind_KIND_GSLB_ZONE: {
		headers: []string{"NAME", "ZONE", "NS", "TTL"},
		row: func(o *v1.Object, _ map[string]*v1.GslbZoneSpec) []string {
			s := o.GetGslbZone().GetSpec()
			var ns []string
			for _, n := range s.GetNameServers() {
				ns = append(ns, n.GetName())
			}
			return []string{cellName(o), cellText(s.GetZone()), cellList(ns), cellUint(uint64(s.GetDefaultTtl()))}
		},
	},
	v1.Kind_KIND_GSLB_RECORD: {
		headers: []string{"NAME", "FQDN", "TYPE", "POLICY", "CANDIDATES", "TTL"},
		row: func(o *v1.Object, zones map[string]*v1.GslbZoneSpec) []string {
			s := o.GetGslbRecord().GetSpec()
			zone := zones[s.GetZone()]
			candidates := cellList(s.GetOrigins())
			if s.GetPops() != nil {
				candidates = "pops: " + cellPopSelector(s.GetPops())
			}
			ttl := s.GetTtl()
			if ttl == 0 {
				ttl = zone.GetDefaultTtl()
			}
			return []string{cellName(o), recordFQDN(s.GetName(), zone.GetZone()), strings.ToUpper(cellEnum(s.GetType())),
				cellEnum(s.GetPolicy()), candidates, cellUint(uint64(ttl))}
		},
	},
}

// writeTable prints objects of one kind as get's table.
func writeTable(w io.Writer, kind v1.Kind, objs []*v1.Object, zones map[string]*v1.GslbZoneSpec) error {
	t, ok := kindTables[kind]
	if !ok {
		return fmt.Errorf("no table for kind %s", kind)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.headers, "\t"))
	for _, o := range objs {
		fmt.Fprintln(tw, strings.Join(t.row(o, zones), "\t"))
	}
	return tw.Flush()
}

func cellName(o *v1.Object) string { return resource.Meta(o).GetName() }

func cellVersion(o *v1.Object) string {
	return strconv.FormatInt(resource.Meta(o).GetResourceVersion(), 10)
}

func cellText(s string) string {
	if s == "" {
		return cellNone
	}
	return s
}

func cellUint(u uint64) string {
	if u == 0 {
		return cellNone
	}
	return strconv.FormatUint(u, 10)
}

func cellList(items []string) string { return cellText(strings.Join(items, ",")) }

// enumCell shows an enum in its manifest form, "-" when unset.
func cellEnum(e protoreflect.Enum) string {
	if e.Number() == 0 {
		return cellNone
	}
	return manifest.ShortEnum(e)
}

// location shows where a PoP or origin is: city,country.
func cellLocation(l *v1.Location) string {
	var parts []string
	for _, p := range []string{l.GetCity(), l.GetCountry()} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return cellList(parts)
}

// popSelector summarises which PoPs a selector chooses.
func cellPopSelector(s *v1.PopSelector) string {
	if s.GetAll() {
		return "all"
	}
	parts := append([]string{}, s.GetNames()...)
	for _, r := range s.GetRegions() {
		parts = append(parts, "region:"+r)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// check summarises a health check: "http :80/healthz".
func cellCheck(h *v1.HealthCheck) string {
	if h == nil {
		return cellNone
	}
	return strings.TrimSpace(cellEnum(h.GetProtocol()) + " " + h.GetTarget() + h.GetPath())
}

// fqdn makes a record name absolute in its zone's apex; "@" is the apex.
func recordFQDN(n, apex string) string {
	switch {
	case strings.HasSuffix(n, "."), apex == "":
		return cellText(n)
	case n == "@" || n == "":
		return apex
	}
	return n + "." + strings.TrimPrefix(apex, ".")
}
