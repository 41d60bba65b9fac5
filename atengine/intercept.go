package atengine

import "github.com/modemsim/modemsim/atparser"

// Interceptor may answer a request in place of the dialect's handler: a
// fault a load run injects (a modem that answers +CME ERROR without running
// the command). ok false passes the request on to the handler.
type Interceptor func(fr atparser.Frame) (r Reply, ok bool)

// WithInterceptor puts i in front of every dialect's handler, across
// SetDialect.
func WithInterceptor(i Interceptor) Option { return func(e *Engine) { e.intercept = i } }

// intercepted returns the interceptor's answer to fr, if it gives one.
func (e *Engine) intercepted(fr atparser.Frame) (Reply, bool) {
	if e.intercept == nil {
		return Reply{}, false
	}
	return e.intercept(fr)
}
