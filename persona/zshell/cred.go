package zshell

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/modemsim/modemsim/credstore"
)

// Zephyr's enum tls_credential_type [S include/zephyr/net/tls_credentials.h].
const (
	CredCA         = 1 // TLS_CREDENTIAL_CA_CERTIFICATE
	CredPublicCert = 2 // TLS_CREDENTIAL_PUBLIC_CERTIFICATE (SERVER_CERTIFICATE)
	CredPrivateKey = 3 // TLS_CREDENTIAL_PRIVATE_KEY
	CredPSK        = 4 // TLS_CREDENTIAL_PSK
	CredPSKID      = 5 // TLS_CREDENTIAL_PSK_ID
)

// credTypeNames is type_strings: the first name of a group is used in
// messages, the last in `cred list`; all are accepted, case-insensitively
// [S tls_credentials_shell.c, NCS sdk-zephyr].
var credTypeNames = []struct {
	name string
	typ  int
}{
	{"CA_CERT", CredCA}, {"CA", CredCA},
	{"SERVER_CERT", CredPublicCert}, {"CLIENT_CERT", CredPublicCert}, {"SELF_CERT", CredPublicCert},
	{"SELF", CredPublicCert}, {"CLIENT", CredPublicCert}, {"SERV", CredPublicCert},
	{"PRIVATE_KEY", CredPrivateKey}, {"PK", CredPrivateKey},
	{"PRE_SHARED_KEY", CredPSK}, {"PSK", CredPSK},
	{"PRE_SHARED_KEY_ID", CredPSKID}, {"PSK_ID", CredPSKID},
}

// CredTypeName is cred_type_name: the long name ("INVALID" if unknown).
func CredTypeName(typ int) string {
	for _, n := range credTypeNames {
		if n.typ == typ {
			return n.name
		}
	}
	return "INVALID"
}

// CredTypeCompact is cred_type_name_compact: the last name ("INV").
func CredTypeCompact(typ int) string {
	for i := len(credTypeNames) - 1; i >= 0; i-- {
		if credTypeNames[i].typ == typ {
			return credTypeNames[i].name
		}
	}
	return "INV"
}

// The cred shell's messages [S tls_credentials_shell.c].
const (
	credAnyKeyword    = "any"
	credMsgCleared    = "Credential buffer cleared.\n"
	credMsgStored     = "Stored %d bytes.\n"
	credMsgNoRoom     = "Not enough room in credential buffer for provided data. Increase CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE.\n"
	credMsgBadSectag  = "%s is not a valid sectag.\n"
	credMsgBadType    = "%s is not a valid credential type.\n"
	credMsgBadBackend = "%s is not a valid backend.\n"
	credMsgBadFormat  = "%s is not a valid storage format.\n"
	credMsgProvide    = "Please provide a credential to add.\n"
	credMsgExists     = "TLS credential with sectag %d and type %s already exists.\n"
	credMsgDecode     = "Could not decode input from base64, error: %d\n"
	credMsgAddFailed  = "Failed to add TLS credential with sectag %d and type %s. Error: %d\n."
	credMsgAdded      = "Added TLS credential of type %s, sectag %d, and length %d bytes.\n"
	credMsgNone       = "There is no TLS credential with sectag %d and type %s.\n"
	credMsgDelFailed  = "Deleting TLS credential with sectag %d and type %s failed with error: %d.\n"
	credMsgDeleted    = "Deleted TLS credential with sectag %d and type %s.\n"
	credMsgTooBig     = "Not enough room in the credential buffer to retrieve credential with sectag %d and type %s. Increase TLS_CREDENTIALS_SHELL_MAX_CRED_LEN.\n"
	credMsgGetFailed  = "Could not retrieve TLS credential with sectag %d and type %s due to error: %d.\n"
	credMsgNotNUL     = "The stored credential isn't NULL-terminated, but a NULL-terminated format was specified.\n"
	credMsgNonPrint   = "Non-printable characters were included in the output and filtered. Have you selected the correct storage format?\n"
	credMsgFound      = "%d credentials found.\n"
	credDigestError   = "ERROR"
	eIO               = 5
	eFBIG             = 27
	eBADF             = 9
)

// CredStore is the TLS credential backend the cred shell talks to (the
// board's protected storage).
type CredStore interface {
	Get(credstore.Key) (credstore.Entry, error)
	Read(credstore.Key) ([]byte, error)
	Put(credstore.Key, []byte) error
	Delete(credstore.Key) error
	List(credstore.Filter) []credstore.Entry
}

// credShell is the cred command set and its buffer (cred_buf, cred_written).
type credShell struct {
	store   CredStore
	bufSize int // CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE
	width   int // CONFIG_TLS_CREDENTIALS_SHELL_CRED_OUTPUT_WIDTH
	max     int // CONFIG_TLS_MAX_CREDENTIALS_NUMBER, 0 = none
	buf     []byte
}

// CredCommands is the `cred` command set over store.
func CredCommands(cfg Config, store CredStore) (*Command, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	c := &credShell{store: store, bufSize: cfg.CredBufSize, width: cfg.CredOutputWidth, max: cfg.MaxCredentials}
	return &Command{Name: "cred", Help: "TLS Credentials Commands", Sub: []*Command{
		{Name: "buf", Help: "Buffer in credential data so it can be added.", Mandatory: 2, Run: c.cmdBuf},
		{Name: "add", Help: "Add a TLS credential.", Mandatory: 5, Optional: 1, Run: c.cmdAdd},
		{Name: "del", Help: "Delete a TLS credential.", Mandatory: 3, Run: c.cmdDel},
		{Name: "get", Help: "Retrieve the contents of a TLS credential", Mandatory: 4, Run: c.cmdGet},
		{Name: "list", Help: "List stored TLS credentials, optionally filtering by type or sectag.",
			Mandatory: 1, Optional: 2, Run: c.cmdList},
	}}, nil
}

// clear is shell_clear_cred_buf: it speaks only when data was dropped.
func (c *credShell) clear(o *Output) {
	if len(c.buf) != 0 {
		o.Print(credMsgCleared)
	}
	c.buf = c.buf[:0]
}

// write is shell_write_cred_buf: room for bufSize-1 bytes of text (the
// check is `writehead + len >= buf + sizeof(buf) - 1`, sizeof = size+1).
func (c *credShell) write(o *Output, chunk string) int {
	if len(c.buf)+len(chunk) >= c.bufSize {
		o.Error(credMsgNoRoom)
		c.clear(o)
		return -ENOMEM
	}
	c.buf = append(c.buf, chunk...)
	o.Print(credMsgStored, len(chunk))
	return 0
}

// sectag is shell_parse_cred_sectag: digits only, an unsigned long on a
// 32-bit MCU, printed later as the int sec_tag_t is. ok=false has printed.
func parseSectag(o *Output, arg string, allowAny bool) (tag uint32, any bool, ok bool) {
	if allowAny && strings.EqualFold(arg, credAnyKeyword) {
		return 0, true, true
	}
	for i := 0; i < len(arg); i++ {
		if arg[i] < '0' || arg[i] > '9' {
			o.Error(credMsgBadSectag, arg)
			return 0, false, false
		}
	}
	if arg == "" { // strtoul of "" is 0 and shell_strtoul reports no error
		return 0, false, true
	}
	v, err := strconv.ParseUint(arg, 10, 32)
	if err != nil {
		o.Error(credMsgBadSectag, arg)
		return 0, false, false
	}
	return uint32(v), false, true
}

func parseCredType(o *Output, arg string, allowAny bool) (typ int, any bool, ok bool) {
	if allowAny && strings.EqualFold(arg, credAnyKeyword) {
		return 0, true, true
	}
	for _, n := range credTypeNames {
		if strings.EqualFold(arg, n.name) {
			return n.typ, false, true
		}
	}
	o.Error(credMsgBadType, arg)
	return 0, false, false
}

// parseFormat is shell_parse_cred_storage_format.
func parseFormat(o *Output, arg string) (binary, terminated, ok bool) {
	switch strings.ToLower(arg) {
	case "bin":
		return true, false, true
	case "bint":
		return true, true, true
	case "str":
		return false, false, true
	case "strt":
		return false, true, true
	}
	o.Error(credMsgBadFormat, arg)
	return false, false, false
}

// tagText prints a sec tag as %d of the int sec_tag_t.
func tagText(tag uint32) string { return strconv.Itoa(int(int32(tag))) }

func (c *credShell) cmdBuf(_ context.Context, o *Output, args []string) int {
	if args[1] == "clear" {
		c.clear(o)
		return 0
	}
	return c.write(o, args[1])
}

func (c *credShell) cmdAdd(_ context.Context, o *Output, args []string) int {
	ret := c.add(o, args)
	c.clear(o) // cleanup: the buffer is always cleared
	return ret
}

func (c *credShell) add(o *Output, args []string) int {
	tag, _, ok := parseSectag(o, args[1], false)
	if !ok {
		return -EINVAL
	}
	typ, _, ok := parseCredType(o, args[2], false)
	if !ok {
		return -EINVAL
	}
	if !strings.EqualFold(args[3], "default") {
		o.Error(credMsgBadBackend, args[3])
		return -EINVAL
	}
	binary, terminated, ok := parseFormat(o, args[4])
	if !ok {
		return -EINVAL
	}
	if len(args) == 6 {
		c.clear(o)
		if err := c.write(o, args[5]); err != 0 {
			return err
		}
	}
	if len(c.buf) == 0 {
		o.Error(credMsgProvide)
		return -ENOENT
	}
	key := credstore.Key{Tag: tag, Type: typ}
	if _, err := c.store.Get(key); err == nil {
		o.Error(credMsgExists, int(int32(tag)), CredTypeName(typ))
		return -EEXIST
	}
	data := append([]byte(nil), c.buf...)
	if binary {
		dec, err := zephyrBase64Decode(data)
		if err != 0 {
			o.Error(credMsgDecode, err)
			return -EINVAL
		}
		data = dec
	}
	if terminated {
		data = append(data, 0)
	}
	if err := c.addToStore(key, data); err != 0 {
		o.Error(credMsgAddFailed, int(int32(tag)), CredTypeName(typ), err)
		return err
	}
	// cred_written is what was stored; the buffer stays non-empty, so the
	// cleanup prints "Credential buffer cleared." after this line.
	o.Print(credMsgAdded, CredTypeName(typ), int(int32(tag)), len(data))
	return 0
}

// addToStore is tls_credential_add on the protected-storage backend: an
// empty credential and a full store fail [I: errno choice].
func (c *credShell) addToStore(key credstore.Key, data []byte) int {
	if c.max > 0 && len(c.store.List(credstore.AnyFilter())) >= c.max {
		return -ENOMEM
	}
	switch err := c.store.Put(key, data); {
	case err == nil:
		return 0
	case errors.Is(err, credstore.ErrFull):
		return -ENOMEM
	case errors.Is(err, credstore.ErrEmpty), errors.Is(err, credstore.ErrInvalidKey):
		return -EINVAL
	default:
		return -eIO
	}
}

func (c *credShell) cmdDel(_ context.Context, o *Output, args []string) int {
	tag, _, ok := parseSectag(o, args[1], false)
	if !ok {
		return -EINVAL
	}
	typ, _, ok := parseCredType(o, args[2], false)
	if !ok {
		return -EINVAL
	}
	key := credstore.Key{Tag: tag, Type: typ}
	if _, err := c.store.Get(key); err != nil {
		o.Error(credMsgNone, int(int32(tag)), CredTypeName(typ))
		return -ENOENT
	}
	if err := c.store.Delete(key); err != nil {
		o.Error(credMsgDelFailed, int(int32(tag)), CredTypeName(typ), -eIO)
		return -eIO
	}
	o.Print(credMsgDeleted, int(int32(tag)), CredTypeName(typ))
	return 0
}

func (c *credShell) cmdGet(_ context.Context, o *Output, args []string) int {
	ret := c.get(o, args)
	c.clear(o)
	return ret
}

func (c *credShell) get(o *Output, args []string) int {
	tag, _, ok := parseSectag(o, args[1], false)
	if !ok {
		return -EINVAL
	}
	typ, _, ok := parseCredType(o, args[2], false)
	if !ok {
		return -EINVAL
	}
	binary, terminated, ok := parseFormat(o, args[3])
	if !ok {
		return -EINVAL
	}
	line := c.width
	if binary {
		line = c.width / 4 * 3
	}
	key := credstore.Key{Tag: tag, Type: typ}
	if _, err := c.store.Get(key); err != nil {
		o.Error(credMsgNone, int(int32(tag)), CredTypeName(typ))
		return -ENOENT
	}
	c.clear(o)
	data, err := c.store.Read(key)
	switch {
	case err != nil:
		o.Error(credMsgGetFailed, int(int32(tag)), CredTypeName(typ), -eIO)
		return -eIO
	case len(data) > c.bufSize+1: // tls_credential_get: -EFBIG past sizeof(cred_buf)
		o.Error(credMsgTooBig, int(int32(tag)), CredTypeName(typ))
		return -ENOMEM
	}
	c.buf = append(c.buf[:0], data...)
	if terminated {
		if data[len(data)-1] != 0 {
			o.Error(credMsgNotNUL)
			return -EINVAL
		}
		data = data[:len(data)-1]
		c.buf = c.buf[:len(data)]
	}
	ret := 0
	for i := 0; i < len(data); i += line {
		chunk := data[i:min(i+line, len(data))]
		if binary {
			o.Print("%s\n", base64.StdEncoding.EncodeToString(chunk))
			continue
		}
		b := []byte(string(chunk))
		for k := range b {
			if !isPrint(b[k]) {
				b[k] = '?'
				ret = -eBADF
			}
		}
		o.Print("%s\n", b)
	}
	if ret != 0 {
		o.Warn(credMsgNonPrint)
	}
	return ret
}

// CredDigest is credential_digest with the raw backend: base64 of the
// SHA-256 of the stored bytes (NUL included for bint/strt) [S
// tls_credentials_digest_raw.c].
func CredDigest(content []byte) string {
	sum := sha256.Sum256(content)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (c *credShell) cmdList(_ context.Context, o *Output, args []string) int {
	var tag uint32
	var typ int
	anyTag, anyType := true, true
	if len(args) >= 2 {
		var ok bool
		if tag, anyTag, ok = parseSectag(o, args[1], true); !ok {
			return 0
		}
	}
	if len(args) >= 3 {
		var ok bool
		if typ, anyType, ok = parseCredType(o, args[2], true); !ok {
			return 0
		}
	}
	entries := c.store.List(credstore.AnyFilter())
	// credential_next_tag_get walks tags in ascending sec_tag_t (int) order.
	slices.SortFunc(entries, func(a, b credstore.Entry) int {
		return cmp.Or(cmp.Compare(int32(a.Tag), int32(b.Tag)), cmp.Compare(a.Type, b.Type))
	})
	count := 0
	for _, e := range entries {
		if int32(e.Tag) < 0 { // below TLS_SEC_TAG_NONE's successor: never visited
			continue
		}
		if (!anyTag && e.Tag != tag) || (!anyType && e.Type != typ) {
			continue
		}
		count++
		digest := base64.StdEncoding.EncodeToString(e.Digest[:])
		o.Print("%s,%s,%s,%d\n", tagText(e.Tag), CredTypeCompact(e.Type), digest, 0)
	}
	o.Print(credMsgFound, count)
	return 0
}
