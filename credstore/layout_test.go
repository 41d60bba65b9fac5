package credstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSlotName(t *testing.T) {
	tests := []struct {
		tag, typ string
		want     Key
		ok       bool
	}{
		{"0", "0", Key{0, 0}, true},
		{"42", "11", Key{42, 11}, true},
		{"16842753", "2", Key{16842753, 2}, true},
		{"4294967295", "2147483647", Key{4294967295, MaxType}, true},
		{"4294967296", "0", Key{}, false}, // tag overflows uint32
		{"42", "2147483648", Key{}, false},
		{"99999999999", "0", Key{}, false},
		{"042", "0", Key{}, false}, // not canonical: would shadow 42
		{"42", "00", Key{}, false},
		{"00", "0", Key{}, false},
		{"", "0", Key{}, false},
		{"42", "", Key{}, false},
		{"+42", "0", Key{}, false},
		{"-1", "0", Key{}, false},
		{"42", "-1", Key{}, false},
		{" 42", "0", Key{}, false},
		{"42", "0\n", Key{}, false},
		{"0x2a", "0", Key{}, false},
		{"42", "0.pem", Key{}, false},
		{"42", ".0.tmp-1", Key{}, false},
		{"４２", "0", Key{}, false}, // full-width digits
		{"README.txt", "0", Key{}, false},
		{".lock", "0", Key{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.tag+"/"+tc.typ, func(t *testing.T) {
			got, ok := parseSlotName(tc.tag, tc.typ)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestIsTempName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".0.tmp-123456", true},
		{".README.txt.tmp-9", true},
		{".tmp-", true},
		{"0", false},
		{"0.tmp-1", false}, // no leading dot: a user's file, left alone
		{".lock", false},
		{"README.txt", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, isTempName(tc.name)) })
	}
}

// FuzzParseSlotName checks the parser of names found on disk: whatever it accepts
// is exactly the canonical name of a valid key, so every slot has one file and no
// temp, lock or README file is ever taken for a slot.
func FuzzParseSlotName(f *testing.F) {
	for _, s := range [][2]string{
		{"0", "0"}, {"42", "11"}, {"4294967295", "2147483647"}, {"4294967296", "0"},
		{"042", "0"}, {"-1", "1"}, {"", ""}, {".0.tmp-1", "x"}, {"42", ".2.tmp-7"}, {"1e3", "0"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tagName, typeName string) {
		k, ok := parseSlotName(tagName, typeName)
		if !ok {
			if k != (Key{}) {
				t.Fatalf("rejected %q/%q but returned %v", tagName, typeName, k)
			}
			return
		}
		if err := k.validate(); err != nil {
			t.Fatalf("accepted %q/%q as invalid key %v: %v", tagName, typeName, k, err)
		}
		if formatTag(k.Tag) != tagName || formatType(k.Type) != typeName {
			t.Fatalf("accepted non-canonical %q/%q as %v", tagName, typeName, k)
		}
		if isTempName(tagName) || isTempName(typeName) || tagName == lockName || tagName == readmeName {
			t.Fatalf("accepted reserved name %q/%q", tagName, typeName)
		}
		// Round trip from the key side.
		if k2, ok := parseSlotName(formatTag(k.Tag), formatType(k.Type)); !ok || k2 != k {
			t.Fatalf("round trip of %v gave %v, %v", k, k2, ok)
		}
	})
}
