package manifest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalarValue converts a scalar node to a value of the field's kind.
func scalarValue(n *yaml.Node, fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
			return protoreflect.ValueOfBool(strings.EqualFold(n.Value, "true")), nil
		}
		return protoreflect.Value{}, fmt.Errorf("want true or false, got %s", describe(n))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := parseInt(n, 32)
		return protoreflect.ValueOfInt32(int32(i)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := parseInt(n, 64)
		return protoreflect.ValueOfInt64(i), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		u, err := parseUint(n, 32)
		return protoreflect.ValueOfUint32(uint32(u)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u, err := parseUint(n, 64)
		return protoreflect.ValueOfUint64(u), err
	case protoreflect.FloatKind:
		f, err := parseFloat(n, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := parseFloat(n, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want a string, got %s", describe(n))
		}
		return protoreflect.ValueOfString(n.Value), nil
	case protoreflect.BytesKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want base64 bytes, got %s", describe(n))
		}
		b, err := base64.StdEncoding.DecodeString(n.Value)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want base64 bytes, got %q: %w", n.Value, err)
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want one of the names of %s, got %s", fd.Enum().Name(), describe(n))
		}
		e, err := parseEnum(fd.Enum(), n.Value)
		return protoreflect.ValueOfEnum(e), err
	}
	return protoreflect.Value{}, fmt.Errorf("fields of kind %s are not supported in manifests", fd.Kind())
}

// numberText returns the text of a number: an integer or float scalar, or
// a string, as protobuf JSON quotes 64-bit integers.
func numberText(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float", "!!str":
			return n.Value, nil
		}
	}
	return "", fmt.Errorf("want a number, got %s", describe(n))
}

func parseInt(n *yaml.Node, bits int) (int64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 0, bits)
	return i, numberError(s, err, fmt.Sprintf("%d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1))
}

func parseUint(n *yaml.Node, bits int) (uint64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(s, 0, bits)
	if err != nil && strings.HasPrefix(s, "-") {
		if _, ierr := strconv.ParseInt(s, 0, 64); ierr == nil {
			err = &strconv.NumError{Func: "ParseUint", Num: s, Err: strconv.ErrRange}
		}
	}
	return u, numberError(s, err, fmt.Sprintf("0 to %d", uint64(math.MaxUint64)>>(64-bits)))
}

func numberError(s string, err error, valid string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%q is out of range: want %s", s, valid)
	}
	if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
		return fmt.Errorf("want a whole number, got %q", s)
	}
	return fmt.Errorf("want a number, got %q", s)
}

// yamlFloats are YAML's spellings of the special floats.
var yamlFloats = map[string]float64{
	".nan": math.NaN(), ".NaN": math.NaN(), ".NAN": math.NaN(),
	".inf": math.Inf(1), ".Inf": math.Inf(1), ".INF": math.Inf(1),
	"+.inf": math.Inf(1), "+.Inf": math.Inf(1), "+.INF": math.Inf(1),
	"-.inf": math.Inf(-1), "-.Inf": math.Inf(-1), "-.INF": math.Inf(-1),
}

func parseFloat(n *yaml.Node, bits int) (float64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	if f, ok := yamlFloats[s]; ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %q", s)
	}
	return f, nil
}
