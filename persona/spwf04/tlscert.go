package spwf04

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/modemsim/modemsim/atengine"
)

// TLSCERT content options [C spwf04.md §4: X-CUBE AT_LIST_TLS_CERT and
// AT_CLEAN_TLS_CERT].
const (
	contentList  = "1"
	contentClean = "2"
)

// listLabels are the `TLSCERT=content,1` line names per entry [C FT].
var listLabels = map[TLSItem]string{TLSCA: "CA", TLSCert: "Cert", TLSKey: "Key", TLSAuth: "Id"}

// AT+S.TLSCERT=<ca|cert|key|auth|content>,<length|option>
// [C spwf04.md §4]: keywords are case-insensitive (ST sends `Ca`).
func (m *Module) cmdTLSCERT(_ context.Context, r request) atengine.Reply {
	if len(r.args) < 2 || r.arg(0) == "" || r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	kw := strings.ToLower(r.arg(0))
	if kw == "content" {
		switch r.arg(1) {
		case contentList:
			return m.listTLS()
		case contentClean:
			if err := m.hw.Flash.CleanTLS(); err != nil {
				m.log.Error("TLSCERT clean", "err", err)
				return fail(ErrFailedWriteFlash)
			}
			return ok()
		}
		return fail(ErrInvalidArgs)
	}
	item := TLSItem(kw)
	if _, known := listLabels[item]; !known {
		return fail(ErrInvalidArgs)
	}
	n, err := m.parseLen(r.arg(1))
	if err != nil {
		return failErr(err)
	}
	return m.payload(n, func(_ context.Context, data []byte) atengine.Reply {
		lines, err := m.storeTLS(item, data)
		if err != nil {
			m.log.Error("TLSCERT store", "item", item, "err", err)
			return fail(ErrFailedWriteFlash)
		}
		return ok(lines...)
	})
}

// storeTLS writes one entry. A CA that parses as DER has its Subject Key
// Identifier extracted: printed as `AT-S.SubjectKeyId:…` and kept as the
// store's key id [C F2, FT]. A PEM CA prints nothing and leaves the id to
// `auth` [I FT: users supply it by hand]; a DER that does not parse is
// stored without an id [C F2 case B].
func (m *Module) storeTLS(item TLSItem, data []byte) ([]string, error) {
	if err := m.hw.Flash.PutTLS(item, data); err != nil {
		return nil, err
	}
	if item != TLSCA || isPEM(data) {
		return nil, nil
	}
	c, err := x509.ParseCertificate(data)
	if err != nil || len(c.SubjectKeyId) == 0 {
		return nil, nil
	}
	if err := m.hw.Flash.PutTLS(TLSAuth, c.SubjectKeyId); err != nil {
		return nil, err
	}
	return []string{"AT-S.SubjectKeyId:" + colonHex(c.SubjectKeyId)}, nil
}

func (m *Module) listTLS() atengine.Reply {
	lines := []string{"AT-S.List"}
	for _, it := range TLSItems() {
		present := "0"
		if _, err := m.hw.Flash.TLS(it); err == nil {
			present = "1"
		} else if !errors.Is(err, ErrNoFile) {
			m.log.Error("TLSCERT list", "item", it, "err", err)
			return fail(ErrFailedReadFlash)
		}
		lines = append(lines, "AT-S."+listLabels[it]+":"+present)
	}
	return ok(lines...)
}

func isPEM(b []byte) bool { return bytes.Contains(b, []byte("-----BEGIN ")) }

// colonHex is `7F:D3:65:…`: uppercase hex bytes joined by colons [C F2].
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}
