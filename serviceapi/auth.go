package serviceapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modemsim/modemsim/sas"
)

// Policy is a shared access policy as the service API checks it.
type Policy struct {
	Name         string   `json:"keyName"`
	PrimaryKey   string   `json:"primaryKey"`
	SecondaryKey string   `json:"secondaryKey"`
	Rights       []string `json:"rights"`
}

// Has reports whether the policy grants any of rights.
func (p Policy) Has(rights ...string) bool {
	for _, r := range rights {
		if slices.Contains(p.Rights, r) {
			return true
		}
	}
	return false
}

// authError is a refused authorization with the values compared.
type authError struct {
	detail string
	values map[string]string
}

func (e *authError) Error() string { return e.detail }

// authorizer checks the Authorization header of service requests.
type authorizer struct {
	// host is the audience: the token's resource must cover host + path.
	host   string
	lookup func(name string) (Policy, bool)
	now    func() time.Time
	skew   time.Duration
}

// authorize verifies a `SharedAccessSignature sr=…&sig=…&se=…&skn=…`
// token: resource, expiry, policy, right, signature over the raw `sr`
// (§1.3 [src S-CS]). need lists acceptable rights (any one suffices).
func (a authorizer) authorize(r *http.Request, need ...string) (string, error) {
	hdr := r.Header.Get("Authorization")
	vals := map[string]string{"method": r.Method, "path": r.URL.Path, "requiredRights": strings.Join(need, "|")}
	fail := func(detail string) error { return &authError{detail: detail, values: vals} }
	if hdr == "" {
		return "", fail("no Authorization header")
	}
	tok, err := sas.Parse(hdr)
	if err != nil {
		return "", fail("Authorization is not a SharedAccessSignature: " + err.Error())
	}
	res, err := tok.ResourceDecoded()
	if err != nil {
		return "", fail("token resource: " + err.Error())
	}
	vals["sr"], vals["se"], vals["stringToSign"] = tok.Resource, fmt.Sprint(tok.Expiry.Unix()), tok.StringToSign()
	if tok.KeyName != "" {
		vals["skn"] = tok.KeyName
	}
	target := a.host + r.URL.Path
	if !sas.ResourceCovers(res, target) {
		vals["requiredResource"] = a.host
		return "", fail("token resource does not name this service")
	}
	if err := tok.CheckExpiry(a.now(), a.skew); err != nil {
		vals["now"] = a.now().UTC().Format(time.RFC3339)
		return "", fail(err.Error())
	}
	if tok.KeyName == "" {
		return "", fail("token has no skn: service calls are signed with a shared access policy")
	}
	p, ok := a.lookup(tok.KeyName)
	if !ok {
		return "", fail("no shared access policy with this name")
	}
	if !p.Has(need...) {
		vals["policyRights"] = strings.Join(p.Rights, ",")
		return "", fail("policy lacks the right this call needs")
	}
	for _, k := range []string{p.PrimaryKey, p.SecondaryKey} { // primary, then secondary (§1.3)
		kb, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(kb) == 0 {
			continue
		}
		if tok.Verify(kb) == nil {
			return p.Name, nil
		}
	}
	return "", fail("signature matches neither key of the policy")
}

func asAuthError(err error) (*authError, bool) {
	var ae *authError
	ok := errors.As(err, &ae)
	return ae, ok
}
