package hubadmin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/serviceapi"
)

// WithConnectionStrings serves GET /connection-strings[?policy=NAME] from f
// (serviceapi.API.ConnectionStrings): the service connection strings of the
// hub's and DPS's shared access policies.
func WithConnectionStrings(f func(policy string) ([]serviceapi.ConnectionString, error)) Option {
	return func(h *handler) { h.connStrings = f }
}

func (h *handler) connectionStrings(r *http.Request) (int, any, error) {
	if h.connStrings == nil {
		return 0, nil, fmt.Errorf("%w: the service API is not served", hub.ErrNotFound)
	}
	cs, err := h.connStrings(r.URL.Query().Get("policy"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cs, nil
}

// ConnectionStrings returns the service connection strings (of one policy
// when policy is not "").
func (c *Client) ConnectionStrings(ctx context.Context, policy string) ([]serviceapi.ConnectionString, error) {
	path := "/connection-strings"
	if policy != "" {
		path += "?policy=" + url.QueryEscape(policy)
	}
	var out []serviceapi.ConnectionString
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// WithUI serves a web console (package webconsole) under /ui/ on the admin
// address, behind the same checks as the API; / redirects to it.
func WithUI(ui http.Handler) Option { return func(h *handler) { h.ui = ui } }
