package canon

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestPyFloat(t *testing.T) {
	cases := map[float64]string{
		90: "90.0", 1.5: "1.5", 1e16: "1e+16", 1e-5: "1e-05", 0.0001: "0.0001", 123456789.125: "123456789.125",
		9999999999999998: "9999999999999998.0", 0.1: "0.1", -2.5e-7: "-2.5e-07", 1.7976931348623157e308: "1.7976931348623157e+308",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", math.Copysign(0, -1): "-0.0", 0: "0.0",
	}
	for f, want := range cases {
		if got := PyFloat(f); got != want {
			t.Errorf("PyFloat(%v) = %q, want %q", f, got, want)
		}
	}
	if PyFloat(math.NaN()) != "NaN" {
		t.Error("NaN")
	}
}

func TestMarshalLayouts(t *testing.T) {
	g, err := Decode([]byte(`{"b":[1,2.0,-0,"é\u0000😀\"\\/"],"a":{"d":null,"c":true},"n":1e400}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		l    Layout
		want string
	}{
		{Python, `{"a": {"c": true, "d": null}, "b": [1, 2.0, 0, "\u00e9\u0000\ud83d\ude00\"\\/"], "n": Infinity}`},
		{Compact, `{"a":{"c":true,"d":null},"b":[1,2.0,0,"\u00e9\u0000\ud83d\ude00\"\\/"],"n":Infinity}`},
	}
	for _, c := range cases {
		got, err := Marshal(c.l, g)
		if err != nil || string(got) != c.want {
			t.Errorf("got %s (%v)\nwant %s", got, err, c.want)
		}
	}
}

func TestMarshalGoValues(t *testing.T) {
	type s struct {
		B int    `json:"b"`
		A string `json:"a"`
	}
	v := map[string]any{"i": 3, "f": 2.0, "u": uint(4), "ss": []string{"x"}, "ms": map[string]string{"k": "v"},
		"st": s{B: 1, A: "z"}, "i64": int64(-5), "f32": float32(0.5), "n": []any{json.Number("-0"), json.Number("1E+2")},
		"fn": fmt.Sprint} // not JSON: written as its fmt.Sprint string, like json.dumps(default=str)
	got, err := Marshal(Compact, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"f":2.0,"f32":0.5,"fn":"0x`
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("got %s", got)
	}
	want = `","i":3,"i64":-5,"ms":{"k":"v"},"n":[0,100.0],"ss":["x"],"st":{"a":"z","b":1},"u":4}`
	if !strings.HasSuffix(string(got), want) {
		t.Errorf("got %s", got)
	}
	if _, err := Marshal(Compact, json.Number("x1")); err == nil {
		t.Error("invalid json.Number accepted")
	}
}

func TestDecodeRejectsTrailingData(t *testing.T) {
	for _, doc := range []string{`{} {}`, `1 2`, `{`, ``} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("Decode(%q) accepted", doc)
		}
	}
	if g, err := Decode([]byte(" [1] \n")); err != nil || len(g.([]any)) != 1 {
		t.Errorf("whitespace: %v %v", g, err)
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	if got := string(AppendString(nil, "a\xffb\x7f")); got != `"a\ufffdb\u007f"` {
		t.Errorf("got %s", got)
	}
}

func TestPlainTable(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
		if (plain[c] == 1) != want {
			t.Errorf("plain[%#x] = %d", c, plain[c])
		}
	}
}

// TestObjectKeyOrder covers objects larger than the stack buffer and keys
// that sort by code point (UTF-8 byte order), not by UTF-16 or locale.
func TestObjectKeyOrder(t *testing.T) {
	m := map[string]any{"é": 1, "z": 2, "Z": 3, "😀": 4, "": 5}
	var want []string
	for i := range 40 {
		k := fmt.Sprintf("k%02d", i)
		m[k] = i
		want = append(want, fmt.Sprintf(`"%s":%d`, k, i))
	}
	got, err := Marshal(Compact, m)
	if err != nil {
		t.Fatal(err)
	}
	exp := `{"":5,"Z":3,` + strings.Join(want, ",") + `,"z":2,"\u00e9":1,"\ud83d\ude00":4}`
	if string(got) != exp {
		t.Errorf("got  %s\nwant %s", got, exp)
	}
}
