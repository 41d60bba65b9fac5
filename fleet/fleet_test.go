package fleet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/nrf91modem"
)

func TestLoadExample(t *testing.T) {
	f, err := Load("testdata/fleet.yaml")
	require.NoError(t, err)
	assert.Equal(t, "testdata/fleet.yaml", f.Path)
	assert.Equal(t, filepath.Join("testdata", "state"), f.State)
	require.Len(t, f.Boards, 103)

	ca, err := os.ReadFile("testdata/certs/ca.pem")
	require.NoError(t, err)
	rootCA := Credential{Tag: 16842753, Type: nrf91modem.TypeRootCA, File: filepath.Join("testdata", "certs", "ca.pem"), Content: ca}

	alpha, bravo, charlie := f.Boards[0], f.Boards[1], f.Boards[2]
	assert.Equal(t, "alpha", alpha.Name)
	assert.Equal(t, "nrf91", alpha.Kind)
	assert.Equal(t, "at_client", alpha.Persona)
	assert.Equal(t, map[string]any{"model": "nrf9161", "imei": "352656100367872",
		"device_uuid": "50503041-3633-4261-803d-1e2b8f70111a", "firmware": "mfw_nrf91x1_2.0.2"}, alpha.Hardware)
	assert.Equal(t, map[string]any{"terminator": "crlf"}, alpha.Firmware)
	assert.Equal(t, "ttyALPHA", alpha.Link)
	assert.Equal(t, filepath.Join("testdata", "logs", "alpha.log"), alpha.Transcript)
	assert.Equal(t, 4096, alpha.TranscriptTail)
	require.Len(t, alpha.Credentials, 2)
	assert.Equal(t, rootCA, alpha.Credentials[0])
	assert.Equal(t, nrf91modem.TypeClientCert, alpha.Credentials[1].Type)
	assert.True(t, strings.HasPrefix(string(alpha.Credentials[1].Content), "-----BEGIN CERTIFICATE-----\nMIIB"))
	assert.True(t, strings.HasSuffix(string(alpha.Credentials[1].Content), "-----END CERTIFICATE-----\n"), "a | block keeps one newline")

	assert.Equal(t, "352656101234568", bravo.Hardware["imei"], "14 digits get their check digit")
	assert.Equal(t, "nrf9160", bravo.Hardware["model"])
	assert.Equal(t, "2s", bravo.Firmware["quote_idle_reset"])
	assert.Equal(t, TranscriptMemory, bravo.Transcript)
	require.Len(t, bravo.Credentials, 3)
	assert.Equal(t, Credential{Tag: 42, Type: nrf91modem.TypePSK, PEM: "000102030405060708090a0b0c0d0e0f", Content: []byte("000102030405060708090a0b0c0d0e0f")}, bravo.Credentials[1])
	assert.Equal(t, nrf91modem.TypePSKIdentity, bravo.Credentials[2].Type)

	assert.NotContains(t, charlie.Hardware, "imei", "left out: the board generates it")
	assert.Equal(t, 16, charlie.Hardware["capacity_entries"])
	assert.Equal(t, "", charlie.Transcript, "defaults: off")

	imeis := map[string]bool{}
	for _, b := range f.Boards {
		if imei, ok := b.Hardware["imei"].(string); ok {
			assert.Len(t, imei, 15)
			assert.True(t, nrf91modem.LuhnValid(imei), "%s: %s", b.Name, imei)
			assert.False(t, imeis[imei], "IMEI %s twice", imei)
			imeis[imei] = true
		}
	}
	for i, b := range f.Boards[3:] {
		seq := i + 1
		assert.Equal(t, fmt.Sprintf("fleet-%03d", seq), b.Name)
		assert.Equal(t, fmt.Sprintf("ttyFLEET%03d", seq), b.Link)
		assert.Equal(t, fmt.Sprintf("35265610%06d", seq), b.Hardware["imei"].(string)[:14])
		assert.Equal(t, []Credential{rootCA}, b.Credentials)
		assert.Equal(t, f.Boards[3].Line, b.Line, "all from one entry")
	}
	assert.Less(t, f.Boards[2].Line, f.Boards[3].Line)
	// One read of the shared CA file for all 103 boards.
	assert.Same(t, &f.Boards[0].Credentials[0].Content[0], &f.Boards[102].Credentials[0].Content[0])
}

func TestParseExpands(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev-1.pem"), []byte("one"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev-2.pem"), []byte("two"), 0o600))
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, f *File)
	}{
		{"seq restarts per entry, index runs across the file", `
boards:
  - {name: "a{{seq}}-{{index}}", count: 2}
  - {name: "b{{seq}}-{{index:3}}", count: 2}
`, func(t *testing.T, f *File) {
			assert.Equal(t, []string{"a1-0", "a2-1", "b1-002", "b2-003"}, names(f))
		}},
		{"an entry without count is seq 1", `
boards:
  - {name: "x{{seq:2}}"}
`, func(t *testing.T, f *File) {
			assert.Equal(t, []string{"x01"}, names(f))
		}},
		{"every string inside hardware and firmware, at any depth", `
boards:
  - name: "n{{seq}}"
    count: 2
    hardware:
      device_uuid: "00000000-0000-4000-8000-{{seq:12}}"
      nested: {list: ["{{name}}", 7, true, 1.5, null]}
    firmware: {banner: "board {{name}} #{{index}}"}
`, func(t *testing.T, f *File) {
			b := f.Boards[1]
			assert.Equal(t, "00000000-0000-4000-8000-000000000002", b.Hardware["device_uuid"])
			assert.Equal(t, map[string]any{"list": []any{"n2", 7, true, 1.5, nil}}, b.Hardware["nested"])
			assert.Equal(t, "board n2 #1", b.Firmware["banner"])
		}},
		{"links, device nodes and transcript paths", `
boards:
  - name: "p{{seq}}"
    count: 2
    link: "ttyP{{seq}}"
    device_node: "/dev/ttyACM{{index:2}}"
    transcript: "logs/{{name}}.log"
`, func(t *testing.T, f *File) {
			assert.Equal(t, "ttyP2", f.Boards[1].Link)
			assert.Equal(t, "/dev/ttyACM01", f.Boards[1].DeviceNode)
			assert.Equal(t, filepath.Join(dir, "logs", "p2.log"), f.Boards[1].Transcript)
		}},
		{"defaults merge key by key; the board wins", `
defaults:
  kind: spwf04
  persona: base
  link: "ttyD{{index}}"
  hardware: {model: nrf9160, svn: "13"}
  firmware: {terminator: cr}
boards:
  - name: a
    persona: own
    hardware: {model: nrf9161}
  - name: b
`, func(t *testing.T, f *File) {
			a, b := f.Boards[0], f.Boards[1]
			assert.Equal(t, "spwf04", a.Kind)
			assert.Equal(t, "own", a.Persona)
			assert.Equal(t, "base", b.Persona)
			assert.Equal(t, map[string]any{"model": "nrf9161", "svn": "13"}, a.Hardware)
			assert.Equal(t, map[string]any{"model": "nrf9160", "svn": "13"}, b.Hardware)
			assert.Equal(t, map[string]any{"terminator": "cr"}, b.Firmware)
			assert.Equal(t, []string{"ttyD0", "ttyD1"}, []string{a.Link, b.Link})
		}},
		{"kind and persona may be left out", `
boards: [{name: a}]
`, func(t *testing.T, f *File) {
			assert.Equal(t, Spec{Name: "a", Line: 2}, f.Boards[0])
		}},
		{"a board's credential replaces the default with its tag and type", `
defaults:
  credentials:
    - {tag: 1, type: ROOT_CA_CERT, pem: default-ca}
    - {tag: 1, type: CLIENT_CERT, pem: default-cert}
boards:
  - name: a
    credentials:
      - {tag: 1, type: 1, pem: own-cert}
      - {tag: 2, type: client_key, pem: own-key}
`, func(t *testing.T, f *File) {
			var got []string
			for _, c := range f.Boards[0].Credentials {
				got = append(got, fmt.Sprintf("%d/%d=%s", c.Tag, c.Type, c.Content))
			}
			assert.Equal(t, []string{"1/0=default-ca", "1/1=own-cert", "2/2=own-key"}, got)
		}},
		{"templated credential files, relative to the fleet file", `
boards:
  - name: "dev-{{seq}}"
    count: 2
    credentials: [{tag: 7, type: CLIENT_CERT, file: "{{name}}.pem"}]
`, func(t *testing.T, f *File) {
			assert.Equal(t, "two", string(f.Boards[1].Credentials[0].Content))
			assert.Equal(t, filepath.Join(dir, "dev-2.pem"), f.Boards[1].Credentials[0].File)
		}},
		{"transcript forms", `
boards:
  - {name: a, transcript: true}
  - {name: b, transcript: false}
  - {name: c, transcript: "on"}
  - {name: d, transcript: "off"}
  - {name: e, transcript: memory}
  - {name: f, transcript: /var/log/f.log}
  - {name: g}
`, func(t *testing.T, f *File) {
			var got []string
			for _, b := range f.Boards {
				got = append(got, b.Transcript)
			}
			assert.Equal(t, []string{TranscriptMemory, "", TranscriptMemory, "", TranscriptMemory, "/var/log/f.log", ""}, got)
		}},
		{"imei: 14 digits get the check digit, 15 valid digits stay", `
boards:
  - {name: a, hardware: {imei: "35265610036787"}}
  - {name: b, hardware: {imei: "352656100367872"}}
  - {name: "c{{seq}}", count: 3, hardware: {imei: "4900000000000{{seq}}"}}
`, func(t *testing.T, f *File) {
			var got []any
			for _, b := range f.Boards {
				got = append(got, b.Hardware["imei"])
			}
			assert.Equal(t, []any{"352656100367872", "352656100367872", "490000000000015", "490000000000023", "490000000000031"}, got)
		}},
		{"state is relative to the fleet file", `
state: st
boards: [{name: a}]
`, func(t *testing.T, f *File) {
			assert.Equal(t, filepath.Join(dir, "st"), f.State)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml), dir)
			require.NoError(t, err)
			tc.check(t, f)
		})
	}
}

func names(f *File) []string {
	var out []string
	for _, b := range f.Boards {
		out = append(out, b.Name)
	}
	return out
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("ca"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.pem"), nil, 0o600))
	tests := []struct {
		name  string
		yaml  string
		line  int
		field string
		msg   string
	}{
		{"empty file", "", 0, "", "the file is empty"},
		{"not YAML", "boards: [", 1, "", "did not find expected node content"},
		{"colon in a plain value", "boards:\n  - name: a\n    kind: b: c\n", 3, "", "mapping values are not allowed"},
		{"two documents", "boards: [{name: a}]\n---\nboards: [{name: b}]\n", 2, "", "one YAML document"},
		{"top is a list", "- a\n", 1, "", "must be a mapping"},
		{"unknown top-level key", "boards: [{name: a}]\nboard: x\n", 2, "board", "unknown key (want one of state, defaults, faults, boards)"},
		{"no boards", "state: x\n", 1, "boards", "is required"},
		{"boards not a list", "boards: {name: a}\n", 1, "boards", "must be a list"},
		{"empty board list", "boards: []\n", 1, "boards", "the list is empty"},
		{"unknown board key", "boards:\n  - name: a\n    imei: \"1\"\n", 3, "boards[0].imei", "unknown key"},
		{"unknown defaults key", "defaults:\n  name: a\nboards: [{name: a}]\n", 2, "defaults.name", "unknown key"},
		{"duplicate key", "boards:\n  - name: a\n    name: b\n", 3, "boards[0].name", "given twice"},
		{"missing name", "boards:\n  - kind: nrf91\n", 2, "boards[0]", "name is required"},
		{"name not a string", "boards:\n  - name: [a]\n", 2, "boards[0].name", "must be a string"},
		{"name with a slash", "boards:\n  - name: ../etc\n", 2, "boards[0].name", `"../etc" is not a board name`},
		{"kind not a string", "boards:\n  - {name: a, kind: 7}\n", 2, "boards[0].kind", "must be a string"},
		{"count zero", "boards:\n  - name: a\n    count: 0\n", 3, "boards[0].count", "must be at least 1, not 0"},
		{"count negative", "boards:\n  - {name: a, count: -3}\n", 2, "boards[0].count", "must be at least 1, not -3"},
		{"count not a number", "boards:\n  - {name: a, count: many}\n", 2, "boards[0].count", "must be an integer"},
		{"count too large", "boards:\n  - {name: \"a{{seq}}\", count: 100001}\n", 2, "boards[0].count", "more than the 100000 boards"},
		{"file too large", "boards:\n  - {name: \"a{{seq}}\", count: 60000}\n  - {name: \"b{{seq}}\", count: 60000}\n", 3, "boards[1]", "expands to more than 100000 boards"},
		{"duplicate names after expansion", "boards:\n  - {name: \"a{{seq}}\", count: 3}\n  - {name: a2}\n", 3, "boards[1].name", `name "a2" is already used by the board at line 2`},
		{"duplicate names in one template", "boards:\n  - {name: a, count: 2}\n", 2, "boards[0].name", `name "a" is already used`},
		{"duplicate links", "boards:\n  - {name: a, link: ttyX}\n  - {name: b, link: ./ttyX}\n", 3, "boards[1].link", `link "ttyX" is already used by the board at line 2`},
		{"duplicate links from defaults", "defaults: {link: ttyX}\nboards:\n  - {name: a}\n  - {name: b}\n", 1, "defaults.link", `link "ttyX" is already used`},
		{"duplicate device nodes", "boards:\n  - {name: \"a{{seq}}\", count: 2, device_node: /dev/ttyACM9}\n", 2, "boards[0].device_node", `device node "/dev/ttyACM9" is already used`},
		{"duplicate transcript files", "defaults: {transcript: shared.log}\nboards: [{name: a}, {name: b}]\n", 1, "defaults.transcript", "transcript file"},
		{"unknown placeholder", "boards:\n  - {name: \"a{{sequence}}\"}\n", 2, "boards[0].name", "unknown placeholder {{sequence}}"},
		{"unclosed placeholder", "boards:\n  - {name: a, link: \"tty{{seq\"}\n", 2, "boards[0].link", "unclosed {{"},
		{"bad width", "boards:\n  - {name: \"a{{seq:0}}\"}\n", 2, "boards[0].name", "width must be a number from 1 to 32"},
		{"seq does not fit", "boards:\n  - {name: \"a{{seq:1}}\", count: 10}\n", 2, "boards[0].name", "board 10 of 10: {{seq:1}}: 10 has more than 1 digits"},
		{"seq does not fit in hardware", "boards:\n  - name: \"a{{seq}}\"\n    count: 12\n    hardware:\n      serial: \"{{seq:1}}\"\n", 5, "boards[0].hardware.serial", "board 10 of 12"},
		{"name in the name", "boards:\n  - {name: \"a{{name}}\"}\n", 2, "boards[0].name", "{{name}} cannot be used in the name itself"},
		{"imei as a number", "boards:\n  - name: a\n    hardware: {imei: 352656100367872}\n", 3, "boards[0].hardware.imei", "quote the IMEI"},
		{"imei too short", "boards:\n  - name: a\n    hardware:\n      imei: \"3526561003678\"\n", 4, "boards[0].hardware.imei", "want 14 digits"},
		{"imei with letters", "boards:\n  - {name: a, hardware: {imei: \"35265610036787x\"}}\n", 2, "boards[0].hardware.imei", "want 14 digits"},
		{"imei with a wrong check digit", "boards:\n  - {name: a, hardware: {imei: \"352656100367873\"}}\n", 2, "boards[0].hardware.imei", "the Luhn check digit is 2, not 3"},
		{"templated imei of 15 digits", "boards:\n  - name: \"f{{seq}}\"\n    count: 5\n    hardware:\n      imei: \"35265610{{seq:7}}\"\n", 5, "boards[0].hardware.imei", "board 1 of 5: IMEI \"352656100000001\": the Luhn check digit is 2, not 1"},
		{"imei from defaults", "defaults:\n  hardware: {imei: \"1\"}\nboards: [{name: a}]\n", 2, "defaults.hardware.imei", "want 14 digits"},
		{"hardware not a mapping", "boards:\n  - {name: a, hardware: [1]}\n", 2, "boards[0].hardware", "must be a mapping"},
		{"hardware duplicate key", "boards:\n  - name: a\n    hardware:\n      model: x\n      model: y\n", 5, "boards[0].hardware.model", "given twice"},
		{"unsupported tag", "boards:\n  - name: a\n    hardware: {blob: !!binary aGVsbG8=}\n", 3, "boards[0].hardware.blob", "unsupported YAML tag"},
		{"anchors", "defaults: &d {kind: nrf91}\nboards: [{name: a}]\n", 1, "", "anchors and aliases are not supported"},
		{"transcript not a string", "boards:\n  - {name: a, transcript: [x]}\n", 2, "boards[0].transcript", "must be a string"},
		{"transcript tail negative", "boards:\n  - {name: a, transcript_tail: -1}\n", 2, "boards[0].transcript_tail", "must be a byte count"},
		{"credentials not a list", "boards:\n  - {name: a, credentials: {tag: 1}}\n", 2, "boards[0].credentials", "must be a list"},
		{"credential unknown key", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, pem: x, sha: y}\n", 4, "boards[0].credentials[0].sha", "unknown key (want one of tag, type, file, pem)"},
		{"credential unknown type name", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: CA_CERT, pem: x}\n", 4, "boards[0].credentials[0].type", `unknown credential type "CA_CERT"`},
		{"credential type out of range", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 12, pem: x}\n", 4, "boards[0].credentials[0].type", "credential type 12 is not a %CMNG type"},
		{"credential without type", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, pem: x}\n", 4, "boards[0].credentials[0].type", "is required"},
		{"credential without tag", "boards:\n  - name: a\n    credentials:\n      - {type: 0, pem: x}\n", 4, "boards[0].credentials[0].tag", "is required"},
		{"credential tag out of range", "boards:\n  - name: a\n    credentials:\n      - {tag: 4294967296, type: 0, pem: x}\n", 4, "boards[0].credentials[0].tag", "is not a security tag"},
		{"credential with file and pem", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, file: ca.pem, pem: x}\n", 4, "boards[0].credentials[0]", "not both"},
		{"credential with neither", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0}\n", 4, "boards[0].credentials[0]", "give the content as file (a path) or as pem (inline)"},
		{"credential empty pem", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, pem: \"\"}\n", 4, "boards[0].credentials[0].pem", "is empty"},
		{"credential twice", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, pem: x}\n      - {tag: 1, type: ROOT_CA_CERT, file: ca.pem}\n", 5, "boards[0].credentials[1]", "tag 1 type ROOT_CA_CERT is already given at line 4"},
		{"credential file missing", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, file: nope.pem}\n", 4, "boards[0].credentials[0].file", "no such file"},
		{"credential file empty", "boards:\n  - name: a\n    credentials:\n      - {tag: 1, type: 0, file: empty.pem}\n", 4, "boards[0].credentials[0].file", "is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), dir)
			require.Error(t, err)
			var fe *Error
			require.True(t, errors.As(err, &fe), "%v is not a *fleet.Error", err)
			assert.Equal(t, tc.line, fe.Line, "%v", err)
			assert.Equal(t, tc.field, fe.Field, "%v", err)
			assert.Contains(t, fe.Err.Error(), tc.msg)
		})
	}
}

func TestErrorNamesFileLineAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.yaml")
	require.NoError(t, os.WriteFile(path, []byte("boards:\n  - name: a\n    count: 0\n"), 0o600))
	_, err := Load(path)
	assert.EqualError(t, err, path+":3: boards[0].count: must be at least 1, not 0")

	_, err = Parse([]byte("boards:\n  - name: a\n    count: 0\n"), "")
	assert.EqualError(t, err, "line 3: boards[0].count: must be at least 1, not 0")

	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestErrorsAreListedInLineOrderAndCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("boards:\n")
	for i := range 15 {
		fmt.Fprintf(&b, "  - {name: b%d, bogus%d: 1}\n", i, i)
	}
	_, err := Parse([]byte(b.String()), "")
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, maxReported+1)
	assert.True(t, strings.HasPrefix(lines[0], "line 2: boards[0].bogus0: unknown key"), lines[0])
	assert.True(t, strings.HasPrefix(lines[9], "line 11: boards[9].bogus9"), lines[9])
	assert.Equal(t, "and 5 more errors", lines[10])
}

func TestCompleteIMEI(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"35265610036787", "352656100367872", ""},
		{"352656100367872", "352656100367872", ""},
		{"00000000000000", "000000000000000", ""},
		{"352656100367870", "", "check digit is 2, not 0"},
		{"3526561003678", "", "want 14 digits"},
		{"3526561003678722", "", "want 14 digits"},
		{"", "", "want 14 digits"},
		{"35265610036787a", "", "want 14 digits"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := completeIMEI(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.True(t, nrf91modem.LuhnValid(got))
		})
	}
}

func TestCredentialType(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"0", nrf91modem.TypeRootCA, ""},
		{"11", nrf91modem.TypeNordicBasePubKey, ""},
		{"ROOT_CA_CERT", nrf91modem.TypeRootCA, ""},
		{"client_cert", nrf91modem.TypeClientCert, ""},
		{"CLIENT_KEY", nrf91modem.TypeClientKey, ""},
		{"PSK", nrf91modem.TypePSK, ""},
		{"PSK_ID", nrf91modem.TypePSKIdentity, ""},
		{"PSK_IDENTITY", nrf91modem.TypePSKIdentity, ""},
		{"PUBLIC_KEY", nrf91modem.TypePublicKey, ""},
		{"PUB_KEY", nrf91modem.TypePublicKey, ""},
		{"DEV_ID_PUB_KEY", nrf91modem.TypeIdentityPubKey, ""},
		{"ENDORSEMENT_KEY", nrf91modem.TypeEndorsementKey, ""},
		{"NORDIC_PUB_KEY", nrf91modem.TypeNordicBasePubKey, ""},
		{"12", 0, "not a %CMNG type"},
		{"-1", 0, "not a %CMNG type"},
		{"CA", 0, `unknown credential type "CA"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CredentialType(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "ROOT_CA_CERT", CredentialTypeName(0))
	assert.Equal(t, "PSK_ID", CredentialTypeName(4))
	assert.Equal(t, "99", CredentialTypeName(99))
	assert.Equal(t, "16842753/ROOT_CA_CERT (ca.pem)", Credential{Tag: 16842753, File: "ca.pem"}.String())
}

// BenchmarkParseThousand: a template of 1,000 boards, the fleet size.
func BenchmarkParseThousand(b *testing.B) {
	data := []byte(`
defaults:
  credentials: [{tag: 42, type: PSK, pem: "000102030405060708090a0b0c0d0e0f"}]
boards:
  - name: "fleet-{{seq:4}}"
    count: 1000
    hardware: {imei: "35265610{{seq:6}}", model: nrf9151}
    firmware: {terminator: any}
    link: "ttyFLEET{{seq}}"
`)
	for b.Loop() {
		f, err := Parse(data, "")
		if err != nil || len(f.Boards) != 1000 {
			b.Fatal(err)
		}
	}
}
