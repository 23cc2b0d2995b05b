// Package canon writes canonical JSON byte-compatible with Python's json.dumps
// with sort_keys=True and ensure_ascii=True.
//
// Two layouts are provided: Python (separators ", " and ": ", the default of
// json.dumps, used by the WCP artifact_hash) and Compact (separators "," and
// ":", used for evidence receipts). Both sort object keys by code point at
// every level, escape every character outside U+0020..U+007E, keep the
// integer/float distinction of json.Number values and print floats like
// Python's repr.
package canon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Layout selects the separators.
type Layout struct {
	item, key string
}

var (
	// Python is json.dumps(v, sort_keys=True): ", " and ": ".
	Python = Layout{item: ", ", key: ": "}
	// Compact is json.dumps(v, sort_keys=True, separators=(",", ":")).
	Compact = Layout{item: ",", key: ":"}
)

// Marshal encodes v in the given layout.
func Marshal(l Layout, v any) ([]byte, error) {
	var b bytes.Buffer
	if err := l.Append(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Append encodes v onto b. Supported: nil, bool, string, json.Number, Go
// integer and float types, map[string]any, map[string]string, []any,
// []string, and anything else encoding/json can marshal (it is re-decoded
// with UseNumber first).
func (l Layout) Append(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		String(b, x)
	case json.Number:
		return Number(b, x)
	case float64:
		b.WriteString(PyFloat(x))
	case float32:
		b.WriteString(PyFloat(float64(x)))
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(l.item)
			}
			String(b, k)
			b.WriteString(l.key)
			if err := l.Append(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return l.Append(b, m)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(l.item)
			}
			if err := l.Append(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(l.item)
			}
			String(b, e)
		}
		b.WriteByte(']')
	default:
		g, err := Generic(v)
		if err != nil {
			// Like json.dumps(default=str): unencodable values become strings.
			String(b, fmt.Sprint(v))
			return nil
		}
		return l.Append(b, g)
	}
	return nil
}

// Generic converts any JSON-marshalable value into the generic tree
// (map[string]any, []any, json.Number, string, bool, nil).
func Generic(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canon: %w", err)
	}
	return Decode(raw)
}

// Decode parses JSON into the generic tree, keeping numbers as json.Number.
// Trailing data after the first value is an error.
func Decode(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var g any
	if err := d.Decode(&g); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("unexpected data after the JSON value")
	}
	var extra any
	if err := d.Decode(&extra); err == nil {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return g, nil
}

// IsFloat reports whether a JSON number literal is a float in Python terms
// (it has a fraction or an exponent).
func IsFloat(n json.Number) bool {
	return strings.ContainsAny(string(n), ".eE")
}

// Number writes a JSON number the way Python re-serialises it: integers in
// full ("-0" becomes "0"), floats through repr.
func Number(b *bytes.Buffer, n json.Number) error {
	s := string(n)
	if !IsFloat(n) {
		if s == "-0" {
			b.WriteByte('0')
			return nil
		}
		if s == "" {
			return errors.New("canon: empty number")
		}
		b.WriteString(s)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("canon: bad number %q", s)
	}
	if err != nil && f == 0 && strings.HasPrefix(s, "-") {
		f = math.Copysign(0, -1)
	}
	b.WriteString(PyFloat(f))
	return nil
}

// PyFloat formats f like Python's float repr (and json.dumps).
func PyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-4 && a < 1e16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'e', -1, 64)
}

const hexDigits = "0123456789abcdef"

// String writes s as an ASCII-only JSON string (Python ensure_ascii).
func String(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteByte(byte(r))
		case r > 0xffff:
			r -= 0x10000
			u4(b, 0xd800+(r>>10))
			u4(b, 0xdc00+(r&0x3ff))
		default:
			u4(b, r)
		}
	}
	b.WriteByte('"')
}

func u4(b *bytes.Buffer, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[(r>>12)&0xf])
	b.WriteByte(hexDigits[(r>>8)&0xf])
	b.WriteByte(hexDigits[(r>>4)&0xf])
	b.WriteByte(hexDigits[r&0xf])
}
