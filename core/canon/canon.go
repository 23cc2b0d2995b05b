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
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Layout selects the separators.
type Layout uint8

const (
	// Python is json.dumps(v, sort_keys=True): ", " and ": ".
	Python Layout = iota
	// Compact is json.dumps(v, sort_keys=True, separators=(",", ":")).
	Compact
)

func (l Layout) seps() (item, key string) {
	if l == Compact {
		return ",", ":"
	}
	return ", ", ": "
}

// Marshal encodes v in the given layout.
func Marshal(l Layout, v any) ([]byte, error) {
	return l.Append(nil, v)
}

// Append appends the encoding of v to dst. Supported: nil, bool, string,
// json.Number, Go integer and float types, map[string]any,
// map[string]string, []any, []string; anything else is marshalled with
// encoding/json and re-decoded with UseNumber first, and a value that
// cannot be marshalled is written as its fmt.Sprint string (like
// json.dumps(default=str)).
//
// It is one function on purpose: with the object and array cases split
// into their own methods, the caller's stack buffer escaped to the heap
// (BenchmarkArtifactHash: one more allocation, 520 -> 720 ns).
func (l Layout) Append(dst []byte, v any) ([]byte, error) {
	var err error
	itemSep, keySep := l.seps()
	switch x := v.(type) {
	case nil:
		dst = append(dst, "null"...)
	case bool:
		if x {
			dst = append(dst, "true"...)
		} else {
			dst = append(dst, "false"...)
		}
	case string:
		dst = AppendString(dst, x)
	case json.Number:
		return AppendNumber(dst, x)
	case float64:
		dst = append(dst, PyFloat(x)...)
	case float32:
		dst = append(dst, PyFloat(float64(x))...)
	case int:
		dst = strconv.AppendInt(dst, int64(x), 10)
	case int64:
		dst = strconv.AppendInt(dst, x, 10)
	case int32:
		dst = strconv.AppendInt(dst, int64(x), 10)
	case uint64:
		dst = strconv.AppendUint(dst, x, 10)
	case uint32:
		dst = strconv.AppendUint(dst, uint64(x), 10)
	case uint:
		dst = strconv.AppendUint(dst, uint64(x), 10)
	case map[string]any:
		// The entries are collected in one pass (no second lookup per key)
		// into a stack array that holds typical objects.
		var small [16]entry
		entries := small[:0]
		for k, e := range x {
			entries = append(entries, entry{k, e})
		}
		if len(entries) > 1 {
			slices.SortFunc(entries, compareKeys)
		}
		dst = append(dst, '{')
		for i, e := range entries {
			if i > 0 {
				dst = append(dst, itemSep...)
			}
			dst = AppendString(dst, e.key)
			dst = append(dst, keySep...)
			if dst, err = l.Append(dst, e.value); err != nil {
				return dst, err
			}
		}
		dst = append(dst, '}')
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return l.Append(dst, m)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, itemSep...)
			}
			if dst, err = l.Append(dst, e); err != nil {
				return dst, err
			}
		}
		dst = append(dst, ']')
	case []string:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, itemSep...)
			}
			dst = AppendString(dst, e)
		}
		dst = append(dst, ']')
	default:
		g, gerr := Generic(v)
		if gerr != nil {
			return AppendString(dst, fmt.Sprint(v)), nil
		}
		return l.Append(dst, g)
	}
	return dst, nil
}

// entry is one member of an object being encoded.
type entry struct {
	key   string
	value any
}

// compareKeys orders entries by key bytes, which for UTF-8 is code point
// order (Python's sort_keys).
func compareKeys(a, b entry) int { return strings.Compare(a.key, b.key) }

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
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return g, nil
}

// IsFloat reports whether a JSON number literal is a float in Python terms
// (it has a fraction or an exponent).
func IsFloat(n json.Number) bool {
	return strings.ContainsAny(string(n), ".eE")
}

// AppendNumber appends a JSON number the way Python re-serialises it:
// integers in full ("-0" becomes "0"), floats through repr.
func AppendNumber(dst []byte, n json.Number) ([]byte, error) {
	s := string(n)
	if !IsFloat(n) {
		if _, err := strconv.ParseFloat(s, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return dst, fmt.Errorf("canon: bad number %q", s)
		}
		if s == "-0" {
			return append(dst, '0'), nil
		}
		return append(dst, s...), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return dst, fmt.Errorf("canon: bad number %q", s)
	}
	if err != nil && f == 0 && strings.HasPrefix(s, "-") {
		f = math.Copysign(0, -1)
	}
	return append(dst, PyFloat(f)...), nil
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

// plain[c] is 1 for the bytes written as-is (printable ASCII except '"' and '\\').
const plain = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// AppendString appends s as an ASCII-only JSON string (Python
// ensure_ascii). Invalid UTF-8 bytes are written as \ufffd.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	run := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] == 1 {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		dst = append(dst, s[run:i]...)
		switch r {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if r > 0xffff {
				r -= 0x10000
				dst = u4(dst, 0xd800+(r>>10))
				dst = u4(dst, 0xdc00+(r&0x3ff))
			} else {
				dst = u4(dst, r)
			}
		}
		i += size
		run = i
	}
	dst = append(dst, s[run:]...)
	return append(dst, '"')
}

func u4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[(r>>12)&0xf], hexDigits[(r>>8)&0xf], hexDigits[(r>>4)&0xf], hexDigits[r&0xf])
}
