package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// ShortEnum renders an enum value in the short form manifests use: the
// value's name without the enum's prefix, lower case, with '-' for '_'
// (CHECK_PROTOCOL_HTTP is "http", ALL_DOWN_BEHAVIOR_FAIL_OPEN "fail-open").
// A number without a name renders as the number.
func ShortEnum(e protoreflect.Enum) string {
	return ShortEnumName(e.Descriptor(), e.Number())
}

// ShortEnumName is ShortEnum for a number of the enum ed.
func ShortEnumName(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	v := ed.Values().ByNumber(n)
	if v == nil {
		return strconv.Itoa(int(n))
	}
	short := strings.TrimPrefix(string(v.Name()), enumPrefix(ed))
	return strings.ReplaceAll(strings.ToLower(short), "_", "-")
}

// enumPrefix is the prefix every value of an enum shares by the protobuf
// style guide: the zero value's name without "UNSPECIFIED".
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	zero := ed.Values().ByNumber(0)
	if zero == nil {
		return ""
	}
	p, ok := strings.CutSuffix(string(zero.Name()), "UNSPECIFIED")
	if !ok {
		return ""
	}
	return p
}

// parseEnum accepts an enum value by its full name or its short form, in
// any case, with '-' or '_'.
func parseEnum(ed protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	want := strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "_")
	prefix := enumPrefix(ed)
	values := ed.Values()
	for i := range values.Len() {
		v := values.Get(i)
		if name := string(v.Name()); want != "" && (name == want || name == prefix+want) {
			return v.Number(), nil
		}
	}
	var names []string
	for i := range values.Len() {
		if v := values.Get(i); v.Number() != 0 {
			names = append(names, ShortEnumName(ed, v.Number()))
		}
	}
	return 0, fmt.Errorf("unknown value %q: want one of %s", s, strings.Join(names, ", "))
}

// FormatDuration renders a duration as Go does, without the zero units Go
// leaves at the end ("1h" rather than "1h0m0s", "2m" rather than "2m0s").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseDuration accepts a Go duration ("1m30s", "100ms") and so also the
// protobuf JSON form ("0.100s"), and a bare "0".
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("want a duration with a unit, got %q: write %q", s, s+"s")
		}
		return 0, fmt.Errorf("want a duration such as \"500ms\", \"5s\" or \"1m30s\", got %q", s)
	}
	return d, nil
}
